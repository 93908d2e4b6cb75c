"""Creditor policies: frozen, validated models loaded once from ``policies/*.yaml``."""

from bot.policies.loader import PolicyBook, PolicyError, load_policies, load_policy
from bot.policies.models import NegotiationProfile, Policy

__all__ = [
    "NegotiationProfile",
    "Policy",
    "PolicyBook",
    "PolicyError",
    "load_policies",
    "load_policy",
]
