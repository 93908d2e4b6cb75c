"""Contact rules (pure): calendar and hours in the contact's zone, caps, pauses, channel choice."""

from bot.contact_rules.rules import (
    REASON_ORDER,
    CadenceStep,
    ChannelChoice,
    ContactCalendar,
    ContactOption,
    DayDecision,
    DebtFacts,
    DueWindow,
    HourWindow,
    SkipReason,
    Slot,
    ZoneDay,
    ZoneDays,
    cap_reason,
    choose_channel,
    current_step,
    due_windows,
    pause_reason,
    rolling_week,
)

__all__ = [
    "REASON_ORDER", "CadenceStep", "ChannelChoice", "ContactCalendar", "ContactOption",
    "DayDecision", "DebtFacts", "DueWindow", "HourWindow", "SkipReason", "Slot", "ZoneDay",
    "ZoneDays", "cap_reason", "choose_channel", "current_step", "due_windows", "pause_reason",
    "rolling_week",
]
