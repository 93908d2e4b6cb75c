"""The API Pix adapter against the PSP emulator: mutual TLS, OAuth2 tokens, cob/cobv bodies,
idempotent creation by txid, pagination of ``GET /pix``, refunds."""

from __future__ import annotations

import ssl
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from bot.devtools.emulators.certificates import PKIFiles
from bot.devtools.emulators.observed import Faults
from bot.payments import brcode
from bot.payments.provider import ChargeRequest, PaymentProviderError
from tests.conftest import NOW
from tests.payments.conftest import PixDesk

TXID = "AC" + "0123456789ABCDEF0123456789AB"


def request(txid: str = TXID, *, installment: bool = True, amount: str = "1000.00",
            tax_id: str | None = "52.601.815/9083-69") -> ChargeRequest:
    return ChargeRequest(txid=txid, amount=Decimal(amount), due_date=date(2026, 12, 26),
                         creditor_name="Credor", debtor_name="Acme Ltda", debtor_tax_id=tax_id,
                         description="Parcela 2", installment=installment,
                         late_fee_percent=Decimal("2"), monthly_interest_percent=Decimal("1"))


async def test_an_installment_is_a_cobv_with_due_date_debtor_fine_and_interest(pix_desk: PixDesk) -> None:
    issued = await pix_desk.provider.create_charge(request())
    charge = pix_desk.psp.charges[TXID]
    assert charge["_kind"] == "cobv" and charge["status"] == "ATIVA"
    assert charge["calendario"]["dataDeVencimento"] == "2026-12-26"
    assert charge["devedor"] == {"cnpj": "52601815908369", "nome": "Acme Ltda"}
    assert charge["valor"] == {"original": "1000.00", "multa": {"modalidade": 2, "valorPerc": "2.00"},
                               "juros": {"modalidade": 3, "valorPerc": "1.00"}}
    assert issued.method == "pix" and issued.payload == charge["pixCopiaECola"]
    parsed = brcode.fields(issued.payload)
    assert parsed["01"] == "12" and charge["location"] in parsed["26"]  # dynamic: the location


async def test_a_single_payment_is_a_cob_payable_until_the_day_after_its_date(pix_desk: PixDesk) -> None:
    await pix_desk.provider.create_charge(request(installment=False))
    charge = pix_desk.psp.charges[TXID]
    assert charge["_kind"] == "cob" and "multa" not in charge["valor"]
    until = NOW + timedelta(seconds=charge["calendario"]["expiracao"])
    assert until.date() == date(2026, 12, 27)


async def test_a_debtor_without_tax_id_gets_a_cob_even_for_an_installment(pix_desk: PixDesk) -> None:
    await pix_desk.provider.create_charge(request(tax_id=None))
    assert pix_desk.psp.charges[TXID]["_kind"] == "cob"


async def test_creation_is_idempotent_by_txid_through_timeouts_and_5xx(pix_desk: PixDesk) -> None:
    provider, psp = pix_desk.provider, pix_desk.psp
    await provider.token()
    psp.faults = Faults(timeout_delay=5.0)
    psp.scripted.extend(["timeout", "5xx"])  # processed then too late; then a 503; then fine
    first = await provider.create_charge(request())
    assert len(psp.charges) == 1
    again = await provider.create_charge(request())
    assert again.payload == first.payload and len(psp.charges) == 1
    outcomes = [r.outcome for r in psp.requests if r.key and "/cobv/" in r.key]
    assert outcomes == ["timeout", "5xx", "ok", "ok"]


async def test_another_body_for_a_txid_in_use_is_refused(pix_desk: PixDesk) -> None:
    await pix_desk.provider.create_charge(request())
    with pytest.raises(PaymentProviderError, match="409"):
        await pix_desk.provider.create_charge(request(amount="999.00"))


async def test_the_emulator_refuses_a_bad_txid_and_a_bad_body(pix_desk: PixDesk) -> None:
    with pytest.raises(PaymentProviderError, match="400"):
        await pix_desk.provider.create_charge(request(txid="SHORT123"))
    kind, body = pix_desk.provider.charge_body(request())
    body["valor"]["original"] = "1.000,00"
    response = await pix_desk.provider.call("PUT", f"/{kind}/{TXID}", json_body=body)
    assert response.status_code == 400
    [violation] = response.json()["violacoes"]
    assert violation["propriedade"] == "valor.original" and "0.00" in violation["razao"]


async def test_giving_up_after_every_attempt_times_out(pix_desk: PixDesk) -> None:
    provider, psp = pix_desk.provider, pix_desk.psp
    await provider.token()
    psp.faults = Faults(timeout_delay=5.0)
    psp.scripted.extend(["timeout"] * 3)
    with pytest.raises(PaymentProviderError, match="timeout"):
        await provider.create_charge(request())
    assert len(psp.charges) == 1  # the PSP made it; the next try finds it, not a second one
    await provider.create_charge(request())
    assert len(psp.charges) == 1


async def test_a_token_is_reused_until_it_is_about_to_expire(pix_desk: PixDesk) -> None:
    provider = pix_desk.provider
    issued = provider.tokens_issued  # the webhook registration took one
    for number in range(3):
        await provider.create_charge(request(txid=f"{TXID[:-1]}{number}"))
    assert provider.tokens_issued == issued == 1 and len(pix_desk.psp.tokens) == 1
    pix_desk.at(NOW + timedelta(seconds=3600 - 30))  # inside the renewal margin
    await provider.create_charge(request(txid=f"{TXID[:-1]}9"))
    assert provider.tokens_issued == 2 and len(pix_desk.psp.tokens) == 2


async def test_a_token_asks_only_the_scopes_acordo_uses(pix_desk: PixDesk) -> None:
    [token] = pix_desk.psp.tokens.values()
    assert "cob.write" in token.scopes and "pix.read" in token.scopes
    assert not any(scope.startswith(("rec.", "payloadlocation")) for scope in token.scopes)


@pytest.mark.psp(token_seconds=600)
async def test_an_expired_token_is_renewed_on_401(pix_desk: PixDesk) -> None:
    provider = pix_desk.provider
    provider._token.expires = NOW + timedelta(days=1)  # type: ignore[union-attr]  # we think it is fresh
    pix_desk.at(NOW + timedelta(seconds=601))  # the PSP knows better
    await provider.create_charge(request())
    assert provider.tokens_issued == 2


async def test_mutual_tls_refuses_a_client_without_a_certificate(pix_desk: PixDesk, pki: PKIFiles) -> None:
    psp = pix_desk.psp
    anonymous = ssl.create_default_context(cafile=str(pki.ca))
    async with httpx.AsyncClient(verify=anonymous) as http:
        with pytest.raises(httpx.TransportError):
            await http.post(f"{psp.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(psp.client_id, psp.client_secret))
    stranger = ssl.create_default_context(cafile=str(pki.ca))
    stranger.load_cert_chain(pki.other_client_cert, pki.other_client_key)
    async with httpx.AsyncClient(verify=stranger) as http:
        with pytest.raises(httpx.TransportError):
            await http.post(f"{psp.base_url}/oauth/token", data={"grant_type": "client_credentials"},
                            auth=(psp.client_id, psp.client_secret))


async def test_oauth_refuses_wrong_credentials_and_unknown_scopes(pix_desk: PixDesk, pki: PKIFiles) -> None:
    psp = pix_desk.psp
    context = ssl.create_default_context(cafile=str(pki.ca))
    context.load_cert_chain(pki.client_cert, pki.client_key)
    async with httpx.AsyncClient(verify=context, base_url=psp.base_url) as http:
        wrong = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                auth=(psp.client_id, "nope"))
        assert wrong.status_code == 401
        scope = await http.post("/oauth/token", auth=(psp.client_id, psp.client_secret),
                                data={"grant_type": "client_credentials", "scope": "cob.write admin"})
        assert scope.status_code == 400 and scope.json() == {"error": "invalid_scope"}
        narrow = await http.post("/oauth/token", auth=(psp.client_id, psp.client_secret),
                                 data={"grant_type": "client_credentials", "scope": "pix.read"})
        token = narrow.json()["access_token"]
        denied = await http.put(f"/cobv/{TXID}", json={}, headers={"Authorization": f"Bearer {token}"})
        assert denied.status_code == 403


async def test_received_pix_are_read_page_by_page(pix_desk: PixDesk) -> None:
    provider, psp = pix_desk.provider, pix_desk.psp
    psp.webhooks.clear()  # no callbacks: only the list
    txids = [f"{TXID[:-2]}{n:02d}" for n in range(7)]
    for txid in txids:
        await provider.create_charge(request(txid=txid, installment=False))
        psp.pay(txid)
    notices = await provider.received(NOW - timedelta(hours=1), NOW + timedelta(hours=1), page_size=3)
    assert [n.txid for n in notices] == txids
    assert len({n.provider_ref for n in notices}) == 7
    pages = [r for r in psp.requests if r.key and r.key.endswith("/pix")]
    assert len(pages) == 3
    assert await provider.received(NOW + timedelta(hours=2), NOW + timedelta(hours=3)) == []


async def test_a_refund_is_asked_once_and_bounded_by_what_was_received(pix_desk: PixDesk) -> None:
    provider, psp = pix_desk.provider, pix_desk.psp
    psp.webhooks.clear()
    await provider.create_charge(request(installment=False, amount="100.00"))
    pix = psp.pay(TXID)
    refund = await provider.refund(pix["endToEndId"], "D1", Decimal("40.00"))
    assert refund["status"] == "DEVOLVIDO" and refund["valor"] == "40.00"
    assert await provider.refund(pix["endToEndId"], "D1", Decimal("40.00")) == refund  # same id
    with pytest.raises(PaymentProviderError, match="60.00"):
        await provider.refund(pix["endToEndId"], "D2", Decimal("60.01"))


async def test_a_removed_charge_cannot_be_paid(pix_desk: PixDesk) -> None:
    await pix_desk.provider.create_charge(request())
    await pix_desk.provider.remove_charge(TXID)
    assert pix_desk.psp.charges[TXID]["status"] == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    with pytest.raises(ValueError, match="REMOVIDA"):
        pix_desk.psp.pay(TXID)


@pytest.mark.psp(base_path="/v2", settings={"pix_profile": "efi"})
async def test_the_efi_profile_puts_the_api_under_v2(pix_desk: PixDesk) -> None:
    await pix_desk.provider.create_charge(request())
    assert TXID in pix_desk.psp.charges
    paths = [r.key for r in pix_desk.psp.requests]
    assert paths == ["/oauth/token", "/v2/webhook/cobranca@credor.example", f"/v2/cobv/{TXID}"]
