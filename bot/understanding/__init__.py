"""Understanding debtors' chat text: values (amounts, counts, dates) and proposals."""
