"""Who wrote or made something (message authors, ``created_by``) and the channels."""

from __future__ import annotations

from bot.staff.i18n_markers import N_

AUTHORS = {"debtor": N_("Debtor"), "bot": N_("Bot"), "agent": N_("Agent"), "portal": N_("Portal"),
           "internal": N_("Internal note")}
CHANNELS = {"web": N_("Web chat"), "telegram": N_("Telegram"), "whatsapp": N_("WhatsApp"),
            "sms": N_("SMS"), "email": N_("Email")}
ROLES = {"agent": N_("Agent"), "admin": N_("Administrator")}
