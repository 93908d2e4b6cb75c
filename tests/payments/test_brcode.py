"""BR Code payloads against the worked examples of the Banco Central's manuals, and back."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.payments import brcode
from bot.payments.qr import qr_png

KEY = "123e4567-e12b-12d1-a456-426655440000"
# Manual de Padrões para Iniciação do Pix, static QR example (random key, no amount).
STATIC = ("00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
          "5913Fulano de Tal6008BRASILIA62070503***63041D3D")
# Same manual, dynamic QR example (location URL instead of a key).
DYNAMIC = ("00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
           "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4")
# Same manual, composite example: static with amount 100.50 plus a recurrence template.
COMPOSITE_WITH_AMOUNT = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000520400005303986"
    "5406100.505802BR5913Fulano de Tal6008BRASILIA62070503***80740014br.gov.bcb.pix2552pix.example.com/rec/"
    "2353c790eefb11eaadc10242ac12000263042875")
# Manual do BR Code: card + Pix + another arrangement, 270 characters.
BRCODE_MANUAL = (
    "00020104141234567890123426580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-426655440000"
    "27300012BR.COM.OUTRO011001234567895204000053039865406123.455802BR5917NOME DO RECEBEDOR6008BRASILIA"
    "61087007490062190515RP12345678-201980390012BR.COM.OUTRO01190123.ABCD.3456.WXYZ6304AD38")


def test_crc16_ccitt_false_check_value() -> None:
    assert brcode.crc16("123456789") == "29B1"
    assert brcode.crc16("") == "FFFF"


@pytest.mark.parametrize("payload", [STATIC, DYNAMIC, COMPOSITE_WITH_AMOUNT, BRCODE_MANUAL])
def test_crc_of_the_manuals_examples(payload: str) -> None:
    assert brcode.crc16(payload[:-4]) == payload[-4:]


def test_builds_the_static_example_byte_for_byte() -> None:
    assert brcode.build(KEY, "Fulano de Tal", "BRASILIA") == STATIC


def test_amount_field_matches_the_composite_example() -> None:
    built = brcode.build(KEY, "Fulano de Tal", "BRASILIA", Decimal("100.50"))
    static_part = COMPOSITE_WITH_AMOUNT[:COMPOSITE_WITH_AMOUNT.index("8074")]
    assert built.startswith(static_part) and len(built) == len(static_part) + 8


def test_reads_the_manuals_examples() -> None:
    static = brcode.parse(STATIC)
    assert (static.key, static.name, static.city, static.amount, static.txid) == (
        KEY, "Fulano de Tal", "BRASILIA", None, "***")
    manual = brcode.parse(BRCODE_MANUAL)
    assert manual.amount == Decimal("123.45") and manual.txid == "RP12345678-2019"
    assert len(BRCODE_MANUAL) == 270
    assert brcode.parse(COMPOSITE_WITH_AMOUNT).amount == Decimal("100.50")


@pytest.mark.parametrize(("amount", "text"), [
    (Decimal("10"), "10.00"), (Decimal("1234.5"), "1234.50"), (Decimal("0.01"), "0.01"),
    (Decimal("9999999999.99"), "9999999999.99"),
])
def test_amount_formatting(amount: Decimal, text: str) -> None:
    payload = brcode.build("11222333000181", "Loja", "Recife", amount)
    assert brcode.fields(payload)["54"] == text
    assert f"54{len(text):02d}{text}" in payload


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1"), Decimal("10.005"),
                                    Decimal("10000000000.00")])
def test_bad_amounts_are_refused(amount: Decimal) -> None:
    with pytest.raises(brcode.BRCodeError):
        brcode.build("11222333000181", "Loja", "Recife", amount)


def test_name_and_city_are_ascii_and_cut_to_the_limits() -> None:
    payload = brcode.build("k@example.com", "Padaria Pão Quente do Zé Comércio Ltda", "São José dos Campos")
    top = brcode.fields(payload)
    assert top["59"] == "Padaria Pao Quente do Ze"  # 25 characters, trailing space dropped
    assert top["60"] == "Sao Jose dos Ca"
    assert all(0x20 <= ord(ch) <= 0x7E for ch in payload)


@pytest.mark.parametrize("txid", ["pedido-12", "mesa 12", "ação", "A" * 26, ""])
def test_txid_rules(txid: str) -> None:
    with pytest.raises(brcode.BRCodeError):
        brcode.build("11222333000181", "Loja", "Recife", txid=txid)


def test_txid_of_25_letters_and_digits() -> None:
    txid = "AC" + "9" * 23
    payload = brcode.build("11222333000181", "Loja", "Recife", Decimal("5.00"), txid)
    assert "62290525" + txid in payload
    assert brcode.parse(payload).txid == txid


def test_key_and_description_share_the_99_characters_of_field_26() -> None:
    assert brcode.build(KEY, "X", "Y", description="d" * 37)[6:10] == "2699"
    with pytest.raises(brcode.BRCodeError):
        brcode.build(KEY, "X", "Y", description="d" * 38)


@pytest.mark.parametrize("broken", [
    STATIC.replace("Fulano", "Fulana"),  # CRC no longer matches
    STATIC[:-8],  # no CRC field
    "0002025802BR6304" + brcode.crc16("0002025802BR6304"),  # missing fields
])
def test_parse_refuses_invalid_payloads(broken: str) -> None:
    with pytest.raises(brcode.BRCodeError):
        brcode.parse(broken)


@given(cents=st.integers(min_value=1, max_value=10**12 - 1),
       txid=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    min_size=1, max_size=25),
       name=st.text(min_size=1, max_size=40).filter(lambda s: brcode.ascii_text(s, 25) != ""))
def test_build_then_parse_round_trips(cents: int, txid: str, name: str) -> None:
    amount = Decimal(cents) / 100
    payload = brcode.build("11222333000181", name, "SAO PAULO", amount, txid, single_use=True)
    charge = brcode.parse(payload)
    assert charge.amount == amount and charge.txid == txid and charge.single_use
    assert charge.name == brcode.ascii_text(name, 25) and charge.key == "11222333000181"


def test_qr_image_decodes_to_the_same_payload() -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    payload = brcode.build("11222333000181", "Distribuidora Exemplo Ltda", "SAO PAULO",
                           Decimal("1234.56"), "AC12N1X4F9")
    png = qr_png(payload)
    assert png.startswith(b"\x89PNG")
    decoded = [result.text for result in zxingcpp.read_barcodes(image.open(io.BytesIO(png)))]
    assert decoded == [payload]
    assert brcode.parse(decoded[0]).amount == Decimal("1234.56")
