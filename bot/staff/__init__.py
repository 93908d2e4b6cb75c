"""The staff web UI: sign-in, the agent console, the template admin and policies, the results
dashboard and a debtor's audit view (pages rendered from ``bot/web/staff/``)."""
