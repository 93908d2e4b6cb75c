"""The debtor's portal page (``/p/{token}``): what it shows and accepting an offer there."""

from bot.services.portal.service import Accepted, PortalRefused, PortalService

__all__ = ["Accepted", "PortalRefused", "PortalService"]
