"""The agent desk's refusals that come back as the console's error message, word for word
(bot/services/agent_desk/): listed here so the catalogs translate them. A refusal that
carries values (a name, an amount) is shown as the service words it."""

from __future__ import annotations

import re

from bot.staff.i18n_markers import N_

DESK_REFUSALS = (
    N_("this conversation is with the bot; nothing to take"),
    N_("this conversation is with the bot"),
    N_("already taken by another agent"),
    N_("take the conversation first"),
    N_("empty reply"),
    N_("empty note"),
    N_("approved templates are for WhatsApp conversations: write a reply"),
    N_("no open balance to negotiate"),
    N_("no pending offer to record as an agreement"),
    N_("the promised date is in the past"),
    N_("WhatsApp's 24-hour window is closed: only approved templates may be sent until the "
       "debtor writes again"),
    N_("give the reason for the rejection (the debtor reads it)"),
    N_("the claim states no amount: type the amount paid"),
)

# Refusals that carry who holds the conversation: their pattern and the message id that says it.
NAMED_REFUSALS = (
    (re.compile(r"already taken by (?P<name>[\w.@-]+)"), N_("already taken by %(name)s")),
    (re.compile(r"taken by (?P<name>[\w.@-]+)"), N_("taken by %(name)s")),
)
