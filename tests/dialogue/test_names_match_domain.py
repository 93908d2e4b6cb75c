"""The Python names and dialogs/domain.yml never drift apart; every canonical intent is there."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.dialogue.actions import COMMANDS
from bot.dialogue.names import ActionName, Entity, Form, Intent, Slot

DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"
CANONICAL = {
    "greet", "goodbye", "affirm", "deny", "ask_debt_details", "pay_in_full",
    "request_installments", "request_discount", "propose_terms", "promise_to_pay", "already_paid",
    "dispute_debt", "financial_hardship", "request_human", "opt_out", "wrong_person",
    "ask_payment_method", "request_callback_later", "complain", "ask_identity", "out_of_scope",
}


def domain() -> dict:
    return yaml.safe_load((DIALOGS / "domain.yml").read_text(encoding="utf-8"))


def names(items: list) -> set[str]:
    return {next(iter(i)) if isinstance(i, dict) else i for i in items}


def test_intents_match_contract_and_enum() -> None:
    assert {i.value for i in Intent} == CANONICAL
    assert names(domain()["intents"]) >= CANONICAL


def test_entities_slots_and_actions_match() -> None:
    spec = domain()
    assert {e.value for e in Entity} <= names(spec["entities"])
    assert {s.value for s in Slot} <= set(spec["slots"])
    assert {a.value for a in ActionName} == set(spec["actions"])
    assert {f.value for f in Form} == set(spec["forms"])


def test_every_action_has_a_command() -> None:
    assert set(COMMANDS) == set(ActionName)
