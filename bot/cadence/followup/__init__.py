"""Carries out the day's follow-up of promises and installment plans.

Run by the worker's régua loop at the first tick of each creditor's local day
(:meth:`bot.cadence.service.CadenceService.tick`) and by hand with ``acordo followup run``.
Loads the facts (active agreements with their installments, pending promises, what was paid,
which follow-ups were done and which were held back), asks the pure
:func:`bot.negotiation.followup.plan` what to do on the day, and applies each decision in its
own transaction, under the creditor's lock (the régua's scheduler takes the same one, so the
per-debtor caps stay exact across both, and across workers):

- reminders, follow-ups and the notice of a broken agreement are bot-initiated contacts and
  obey the contact rules like the régua's: the contact's hours and holidays, the per-debtor
  caps per day and per rolling 7 days (the régua's contacts and these count together), no
  contact that opted out, is the wrong person or unreachable, none while a person owns one of
  the debtor's conversations. One held back is recorded as a decision not to contact
  (``contact_decisions``, segment ``followup``, with the reason) and goes on the next
  contact day (a reminder: up to the due date; the notice: within ``NOTICE_DAYS``).
- a contact made becomes messages stored ``queued`` in the debtor's conversation and, on
  Telegram/WhatsApp/SMS, outbox rows with ``not_before`` the allowed moment; its key in
  ``followup_events`` is claimed in the same transaction, so no re-run and no second worker
  sends it twice;
- a broken agreement: unpaid installments are ``late``, its debts return to ``open`` (the
  régua takes them again) and the conversation's negotiation starts afresh, whatever the caps
  say; a kept agreement closes its debts; a broken promise is recorded (the régua resumes),
  a kept one is closed.

``--dry-run`` only reports.
"""
