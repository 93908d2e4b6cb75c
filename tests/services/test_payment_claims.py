"""Payment claims through the web channel and the real actions (NLU chosen by the test):
"already paid" opens a claim, its details never become a proposal, the status answers, and
the agent desk confirms (a payment through the payments path) or rejects (the debtor told)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.conversation import commands as cmd
from bot.services.agent_desk.errors import DeskError
from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from bot.storage.claim_models import PaymentClaim
from tests.support.chat import ADMIN, Chat, open_chat
from tests.support.portfolio import PORTFOLIO

AGENT = StaffIdentity(user_id=1, name="alice", role="agent", csrf_token="t")
DETAILS = "o comprovante é o TED 88213 do dia 2, valor 3.100,00"


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async for value in open_chat(tmp_path):
        yield value


async def claims(chat: Chat) -> list[PaymentClaim]:
    async with chat.container.sessions() as session:
        return list(await session.scalars(select(PaymentClaim).order_by(PaymentClaim.id)))


async def offers(chat: Chat) -> int:
    async with chat.container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(db.Offer)) or 0)


async def audit_kinds(chat: Chat) -> list[str]:
    async with chat.container.sessions() as session:
        return list(await session.scalars(select(db.AuditEvent.kind).order_by(db.AuditEvent.id)))


async def speak_english(chat: Chat) -> None:
    body = {**PORTFOLIO, "debtors": [{**PORTFOLIO["debtors"][0], "locale": "en"}]}
    response = await chat.http.post("/api/v1/portfolio", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text


async def test_already_paid_opens_a_claim_and_asks_for_the_receipt(chat: Chat) -> None:
    [reply] = await chat.say("já pagamos essa nota semana passada", "already_paid")
    assert "conferir" in reply["text"] and "comprovante" in reply["text"]
    [claim] = await claims(chat)
    assert claim.status == "pending" and claim.text == "já pagamos essa nota semana passada"
    assert "already_paid_reported" in await audit_kinds(chat)


@pytest.mark.parametrize("intent", ["propose_terms", "pay_in_full", "already_paid", "affirm",
                                    "request_installments", "out_of_scope"])
async def test_details_go_to_the_pending_claim_never_to_a_proposal(chat: Chat, intent: str) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    [reply] = await chat.say(DETAILS, intent)
    assert "Posso registrar" not in reply["text"] and "Anotei" in reply["text"]
    assert "TED 88213" in reply["text"] and "R$ 3.100,00" in reply["text"]
    assert "mande o comprovante" not in reply["text"]  # details given: not asked again
    [claim] = await claims(chat)
    assert (claim.reference, claim.amount, claim.paid_on) == ("TED 88213", Decimal("3100.00"),
                                                               date(2026, 11, 2))
    assert claim.text.splitlines() == ["já pagamos essa nota semana passada", DETAILS]
    assert await offers(chat) == 0 and (await chat.counts())[0] == 0
    assert chat.dialogue.trackers[next(iter(chat.dialogue.trackers))].slots.get("terms_missing") \
        in (None, False)


async def test_details_given_to_the_proposal_form_reach_the_claim(chat: Chat) -> None:
    """The form that asks for terms keeps payment details that state no terms ("segue o
    comprovante do pix pelo itaú") as its answer, and the form's end adds them to the claim
    instead of asking for terms again."""
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    [conversation_id] = chat.dialogue.trackers
    negotiation = chat.container.negotiation
    kept = await negotiation.execute(conversation_id, cmd.ValidateProposalText("recebeu?", attempt=1))
    assert kept.slots == {"proposal_text": None}  # no details, no terms: the form asks again
    receipt = "segue o comprovante do pix pelo itaú"
    kept = await negotiation.execute(conversation_id, cmd.ValidateProposalText(receipt, attempt=1))
    assert kept.slots == {"proposal_text": receipt}
    outcome = await negotiation.execute(conversation_id, cmd.EvaluateProposal(receipt, answer=receipt))
    assert [reply.template for reply in outcome.replies] == ["payment_claim_details_recorded"]
    [claim] = await claims(chat)
    assert claim.bank == "Itaú" and await offers(chat) == 0


async def test_the_english_receipt_loop_ends(chat: Chat) -> None:
    await speak_english(chat)
    [first] = await chat.say("we already paid that invoice", "already_paid")
    assert "receipt" in first["text"]
    [second] = await chat.say("ok here is the receipt: TED 12345 on Dec 1", "already_paid")
    assert second["text"] != first["text"] and "could you send" not in second["text"].lower()
    assert "Thank you" in second["text"] and "TED 12345" in second["text"]
    [claim] = await claims(chat)
    assert claim.reference == "TED 12345"
    assert claim.paid_on == date(2025, 12, 1)  # December 1 is still to come on November 26


async def test_without_a_pending_claim_a_proposal_stays_a_proposal(chat: Chat) -> None:
    replies = await chat.say("posso pagar 1000 dia 30", "propose_terms")
    assert await claims(chat) == [] and await offers(chat) >= 1
    assert not any("Anotei" in r["text"] for r in replies)


async def test_a_proposal_while_a_claim_is_pending_is_still_a_proposal(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    await chat.say("posso pagar 1000 dia 30", "propose_terms")
    [claim] = await claims(chat)
    assert claim.text == "já pagamos essa nota semana passada" and await offers(chat) >= 1


async def test_what_do_i_owe_with_a_pending_claim_tells_its_status(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    await chat.say(DETAILS, "propose_terms")
    [reply] = await chat.say("quanto devo?", "ask_debt_details")
    assert "em conferência" in reply["text"] and "TED 88213" in reply["text"]
    assert "Não há valores em aberto" not in reply["text"]


async def test_what_do_i_owe_with_an_agreement_lists_what_is_left(chat: Chat) -> None:
    await chat.say("da pra fazer em 2x?", "request_installments")
    [agreed, *_] = await chat.say("sim", "affirm")
    assert "Acordo registrado" in agreed["text"]
    [reply] = await chat.say("quanto devo?", "ask_debt_details")
    assert "Não há valores em aberto" not in reply["text"]
    assert "faltam 2 parcelas" in reply["text"] and "A próxima vence em" in reply["text"]


async def test_the_agent_confirms_a_claim_as_a_payment_once(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    await chat.say("paguei 400 reais pelo itau, TED 88213", "already_paid")
    desk = chat.container.claims
    [pending] = await desk.pending()
    assert (pending.amount, pending.bank, pending.reference) == (Decimal("400.00"), "Itaú", "TED 88213")
    recorded = await desk.confirm(AGENT, pending.id, amount=Decimal("350.00"))
    assert recorded.amount == Decimal("350.00") and not recorded.duplicate
    with pytest.raises(DeskError, match="confirmed already"):
        await desk.confirm(AGENT, pending.id)
    async with chat.container.sessions() as session:
        payments = list(await session.scalars(select(db.Payment)))
        told = await session.scalar(select(db.Message.text).where(
            db.Message.template == "payment_claim_confirmed"))
    assert [(p.amount, p.reference) for p in payments] == [(Decimal("350.00"), f"claim-{pending.id}")]
    assert told is not None and "R$ 350,00" in told and "R$ 650,00" in told
    [claim] = await claims(chat)
    assert (claim.status, claim.resolved_by, claim.payment_amount) == (
        "confirmed", "agent:alice", Decimal("350.00"))
    assert {"payment_recorded", "payment_claim_confirmed"} <= set(await audit_kinds(chat))
    assert await desk.pending() == []


async def test_the_agent_rejects_a_claim_politely_with_the_reason(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    desk = chat.container.claims
    [pending] = await desk.pending()
    with pytest.raises(DeskError, match="reason"):
        await desk.reject(AGENT, pending.id, "   ")
    await desk.reject(AGENT, pending.id, "o valor não aparece no extrato")
    async with chat.container.sessions() as session:
        told = await session.scalar(select(db.Message.text).where(
            db.Message.template == "payment_claim_rejected"))
        paid = await session.scalar(select(func.count()).select_from(db.Payment))
    assert told is not None and "o valor não aparece no extrato." in told and paid == 0
    [claim] = await claims(chat)
    assert (claim.status, claim.resolution_note) == ("rejected", "o valor não aparece no extrato.")
    assert "payment_claim_rejected" in await audit_kinds(chat)
    # A new "already paid" after a rejection opens a new claim.
    await chat.say("mas eu paguei sim", "already_paid")
    assert [c.status for c in await claims(chat)] == ["rejected", "pending"]


async def test_confirm_needs_an_amount_when_the_claim_states_none(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    [pending] = await chat.container.claims.pending()
    with pytest.raises(DeskError, match="amount"):
        await chat.container.claims.confirm(AGENT, pending.id)
    with pytest.raises(DeskError, match="amount"):
        await chat.container.claims.confirm(AGENT, pending.id, amount=Decimal("-5"))


async def test_the_debtor_json_lists_the_claims(chat: Chat) -> None:
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    await chat.say(DETAILS, "propose_terms")
    view = (await chat.http.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    [claim] = view["claims"]
    assert (claim["status"], claim["reference"], claim["amount"], claim["paid_on"]) == (
        "pending", "TED 88213", "3100.00", "2026-11-02")


@pytest.fixture
async def pg_chat(tmp_path: Path) -> AsyncIterator[Chat]:
    from tests.storage.conftest import create_postgres_database, drop_postgres_database

    url = await create_postgres_database()
    try:
        async for value in open_chat(tmp_path, database_url=url):
            yield value
    finally:
        await drop_postgres_database(url)


@pytest.mark.postgres
async def test_claims_open_confirm_and_reject_on_postgresql(pg_chat: Chat) -> None:
    chat = pg_chat
    await chat.say("já pagamos essa nota semana passada", "already_paid")
    await chat.say(DETAILS, "propose_terms")
    [pending] = await chat.container.claims.pending()
    assert (pending.reference, pending.amount, pending.paid_on) == (
        "TED 88213", Decimal("3100.00"), date(2026, 11, 2))
    recorded = await chat.container.claims.confirm(AGENT, pending.id, amount=Decimal("300.00"))
    assert recorded.amount == Decimal("300.00") and await offers(chat) == 0
    await chat.say("paguei o resto ontem pelo nubank", "already_paid")
    [second] = await chat.container.claims.pending()
    assert second.id != pending.id and second.bank == "Nubank"
    await chat.container.claims.reject(AGENT, second.id, "não encontramos")
    assert [c.status for c in await claims(chat)] == ["confirmed", "rejected"]
