"""The human agent's side of a handed-off conversation.

The bot hands a conversation off (``state = human``, Rasa paused); it then waits in the
queue. An agent takes it (one agent at a time: the ``conversation_assignments`` primary
key refuses a second take), replies through the debtor's channel, makes offers through
the negotiation core with the policy's agent limits, records agreements, promises and
disputes, writes internal notes, and finally hands it back to the bot (Rasa resumes and
the bot greets the debtor again without repeating what was settled) or closes it. On
WhatsApp, outside the 24-hour window, the agent can only send one of the approved
templates of ``ACORDO_WHATSAPP_TEMPLATES`` (its Content SID goes through the outbox).
Every action is in the audit log with actor ``agent:<name>`` (or ``admin:<name>``).
"""
