"""The hardship path and one payment at a time, through the web channel (SQLite, the real
actions and services, the NLU chosen by the test)."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage import models as db
from bot.storage.payment_models import PaymentCharge
from tests.support.chat import Chat, open_chat
from tests.support.portfolio import PORTFOLIO

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 26)  # tests/conftest.py NOW in São Paulo
HARDSHIP_TEXT = "a gente tá apertado esse mês, não dá pra pagar tudo"
HARDSHIP_KEYS = """
hardship:
  first_installment_deferral_days: 30
  max_installments: 12
  handoff_keywords: ["recuperação judicial", "falência", "advogado", "lawyer", "bankruptcy"]
"""
PIX = re.compile(r"^000201\S.*$", re.MULTILINE)


def big_portfolio() -> dict[str, Any]:
    body = copy.deepcopy(PORTFOLIO)
    body["debtors"][0]["debts"][0]["amount"] = "9000.00"
    return body


def policies(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    text = (ROOT / "policies" / "demo.yaml").read_text(encoding="utf-8")
    (folder / "demo.yaml").write_text(re.sub(r"(?ms)^hardship:.*?(?=^\S|\Z)", "", text) + extra,
                                      encoding="utf-8")
    return folder


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    """The demo policy without any hardship key."""
    async for value in open_chat(tmp_path, big_portfolio(), policies_dir=policies(tmp_path)):
        yield value


@pytest.fixture
async def generous(tmp_path: Path) -> AsyncIterator[Chat]:
    """The demo policy with every hardship key."""
    folder = policies(tmp_path, HARDSHIP_KEYS)
    async for value in open_chat(tmp_path, big_portfolio(), policies_dir=folder):
        yield value


def plan_size(reply: dict[str, Any]) -> int:
    match = re.search(r"(\d+) parcelas", reply["text"])
    assert match is not None, reply["text"]
    return int(match.group(1))


def accept(reply: dict[str, Any]) -> str:
    [payload] = [b["payload"] for b in reply["buttons"] if b["payload"].startswith("/affirm")]
    return str(payload)


async def audit(chat: Chat, kind: str) -> list[dict[str, Any]]:
    async with chat.container.sessions() as session:
        rows = await session.scalars(select(db.AuditEvent).where(db.AuditEvent.kind == kind))
        return [dict(row.data or {}) for row in rows]


async def test_hardship_is_acknowledged_recorded_and_concedes_one_step_at_a_time(chat: Chat) -> None:
    empathy, offer = await chat.say(HARDSHIP_TEXT, "financial_hardship")
    assert empathy["text"].startswith("Entendo") and plan_size(offer) == 2
    [event] = await audit(chat, "hardship_reported")
    assert event["category"] == "cash_flow" and event["text"] == HARDSHIP_TEXT
    _, offer = await chat.say("ainda nao da, estamos sem caixa", "financial_hardship")
    assert plan_size(offer) == 3
    assert [e["category"] for e in await audit(chat, "hardship_reported")] == ["cash_flow"] * 2


async def test_without_hardship_keys_handoff_words_negotiate_as_before(chat: Chat) -> None:
    replies = await chat.say("a empresa entrou em recuperação judicial", "financial_hardship")
    assert plan_size(replies[-1]) == 2
    assert await audit(chat, "handoff") == []
    [event] = await audit(chat, "hardship_reported")
    assert event["category"] == "judicial_recovery"


@pytest.mark.parametrize(("text", "intent"), [
    ("a empresa entrou em RECUPERACAO JUDICIAL", "financial_hardship"),
    ("vou passar pro meu advogado", "complain"),
    ("we filed for bankruptcy", "out_of_scope"),
])
async def test_handoff_words_go_straight_to_a_person(generous: Chat, text: str, intent: str) -> None:
    replies = await generous.say(text, intent)
    assert "pessoa da equipe" in replies[-1]["text"]
    assert [e["reason"] for e in await audit(generous, "handoff")] == ["hardship_keyword"]
    [event] = await audit(generous, "hardship_reported")
    assert event["handoff"] == "hardship_keyword"
    async with generous.container.sessions() as session:
        assert await session.scalar(select(db.Conversation.state)) == "human"


async def test_the_hardship_path_defers_the_first_payment_and_goes_past_the_normal_maximum(
    generous: Chat,
) -> None:
    # Off the hardship path, 12 payments are more than the profile allows (10): a counter-offer.
    [counter] = await generous.say("da pra fazer em 12x?", "request_installments")
    assert plan_size(counter) == 10
    deferred = (TODAY + timedelta(days=30)).strftime("%d/%m/%Y")
    assert deferred not in counter["text"]
    _, offer = await generous.say(HARDSHIP_TEXT, "financial_hardship")
    assert plan_size(offer) == 11 and deferred in offer["text"]
    [plan] = await generous.say("da pra fazer em 12x?", "request_installments")
    assert plan_size(plan) == 12 and deferred in plan["text"]
    replies = await generous.say(accept(plan), "affirm")
    assert "Acordo registrado" in replies[0]["text"]
    async with generous.container.sessions() as session:
        agreement = await session.scalar(select(db.Agreement))
        assert agreement is not None
        items = list(await session.scalars(select(db.Installment).order_by(db.Installment.number)))
    assert len(items) == 12 and items[0].due_date == TODAY + timedelta(days=30)


async def agree_on_three(chat: Chat) -> list[dict[str, Any]]:
    [offer] = await chat.say("da pra fazer em 3x?", "request_installments")
    return await chat.say(accept(offer), "affirm")


async def charge_of(chat: Chat, image: str) -> tuple[int, str]:
    """(installment number, payload) of the charge whose QR picture ``image`` is."""
    txid = image.removeprefix("/pay/").removesuffix(".png")
    async with chat.container.sessions() as session:
        charge = await session.scalar(select(PaymentCharge).where(PaymentCharge.txid == txid))
        assert charge is not None and charge.installment_id is not None
        item = await session.get(db.Installment, charge.installment_id)
        assert item is not None
        return item.number, charge.payload


async def test_after_an_agreement_only_the_first_installment_is_sent(chat: Chat) -> None:
    summary, instructions = await agree_on_three(chat)
    assert summary["text"].startswith("Acordo registrado") and "3 parcelas" in summary["text"]
    assert summary["text"].count("\n") == 1  # the plan in one line, then the thanks
    [code] = PIX.findall(instructions["text"])
    assert "1ª parcela (de 3)" in instructions["text"]
    assert await charge_of(chat, instructions["image"]) == (1, code)
    async with chat.container.sessions() as session:
        charges = list(await session.scalars(select(PaymentCharge)))
    assert len(charges) == 1


@pytest.mark.parametrize(("text", "number"), [
    ("manda o pix da 2ª parcela", 2),
    ("me manda a terceira parcela", 3),
    ("manda o pix", 1),  # no number: the next open installment
    ("send the code for the next one", 1),
])
async def test_asking_for_an_installment_sends_that_one(chat: Chat, text: str, number: int) -> None:
    await agree_on_three(chat)
    [reply] = await chat.say(text, "ask_payment_method")
    [code] = PIX.findall(reply["text"])
    assert f"{number}ª parcela (de 3)" in reply["text"]
    assert await charge_of(chat, reply["image"]) == (number, code)


async def test_an_installment_outside_the_plan_or_paid_is_said_so(chat: Chat) -> None:
    await agree_on_three(chat)
    notice, reply = await chat.say("manda o pix da 5ª parcela", "ask_payment_method")
    assert "não há uma 5ª" in notice["text"] and "1ª parcela (de 3)" in reply["text"]
    async with chat.container.sessions() as session:
        first = await session.scalar(select(db.Installment).where(db.Installment.number == 1))
        assert first is not None
        first.paid_amount = first.amount
        await session.commit()
    notice, reply = await chat.say("manda o pix da 1ª parcela", "ask_payment_method")
    assert "1ª parcela já consta como paga" in notice["text"]
    assert "2ª parcela (de 3)" in reply["text"]
    assert (await charge_of(chat, reply["image"]))[0] == 2


async def test_an_installment_request_read_as_installments_still_gets_the_code(chat: Chat) -> None:
    """With an agreement, "o pix da 2ª parcela" is about paying, whatever the intent says."""
    await agree_on_three(chat)
    [reply] = await chat.say("manda o pix da 2ª parcela", "request_installments")
    assert "2ª parcela (de 3)" in reply["text"]
    [reply] = await chat.say("da pra parcelar em 4x?", "request_installments")
    assert reply["text"].startswith("Já existe um acordo")


async def test_hardship_after_an_agreement_is_acknowledged_and_recorded(chat: Chat) -> None:
    await agree_on_three(chat)
    empathy, reply = await chat.say(HARDSHIP_TEXT, "financial_hardship")
    assert empathy["text"].startswith("Entendo") and reply["text"].startswith("Já existe um acordo")
    assert len(await audit(chat, "hardship_reported")) == 1


async def test_a_dispute_or_an_already_paid_claim_keeps_its_own_path(generous: Chat) -> None:
    await generous.say("ja paguei, meu advogado tem o comprovante", "already_paid")
    assert await audit(generous, "handoff") == []
    await generous.say("nao reconheco, vou passar pro advogado", "dispute_debt")
    assert [e["reason"] for e in await audit(generous, "handoff")] == ["dispute_debt"]
    async with generous.container.sessions() as session:
        assert await session.scalar(select(db.Debt.status)) == "disputed"


async def test_a_handoff_intent_sends_every_hardship_statement_to_a_person(tmp_path: Path) -> None:
    folder = policies(tmp_path, "\nhardship:\n  handoff_intents: [financial_hardship]\n")
    async for chat in open_chat(tmp_path, big_portfolio(), policies_dir=folder):
        [offer] = await chat.say("da pra parcelar?", "request_installments")  # not on the path yet
        assert plan_size(offer) == 2
        empathy, handoff = await chat.say(HARDSHIP_TEXT, "financial_hardship")
        assert empathy["text"].startswith("Entendo") and "pessoa da equipe" in handoff["text"]
        assert [e["reason"] for e in await audit(chat, "handoff")] == ["hardship_intent"]
