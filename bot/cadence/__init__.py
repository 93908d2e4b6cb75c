"""The régua (dunning cadence): who is contacted when, on which channel, and what became of it.

- :mod:`bot.cadence.service` — ``CadenceService``, the facade the composition root wires:
  preview, schedule, materialize, sweep and the worker loop.
- :mod:`bot.cadence.plan` — the set-wise SQL planner: one statement per creditor that says,
  per due debt, contact (channel, contact, moment) or skip (reason).
- :mod:`bot.cadence.caps` — contacts that count against the caps (the régua's and the
  follow-up's) and the per-creditor lock that keeps them exact.
- :mod:`bot.cadence.calendar` — the policy's contact calendar with national holidays.
- :mod:`bot.cadence.preview` — the preview and summary of a day (no writes).
- :mod:`bot.cadence.schedule` — writing a day's decisions to ``cadence_contacts`` and
  ``contact_decisions``.
- :mod:`bot.cadence.queue` — planned contacts through the one outgoing path into the
  outbox; a failed channel falls back to the step's next.
- :mod:`bot.cadence.sweep` — following the outbox: sent, cancelled by a pause, expired.
- :mod:`bot.storage.tables` and :mod:`bot.storage.dialect` — the Core tables the statements
  use and where PostgreSQL and SQLite differ.

Elsewhere: the pure rules (calendar, hours, caps, channel choice) in :mod:`bot.contact_rules`;
the tables in :mod:`bot.storage.cadence_models` (storage owns every table); segment
membership as SQL, shared with the results dashboard, in :mod:`bot.services.segment_sql`;
the CLI in :mod:`bot.cli.cadence`. See docs/cadence.md.
"""
