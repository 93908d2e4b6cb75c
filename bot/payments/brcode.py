"""PIX BR Code payloads ("copia e cola"): build, parse and check them.

The format is EMV QRCPS Merchant-Presented Mode as profiled by the Banco Central do
Brasil (Manual de Padrões para Iniciação do Pix; Manual do BR Code). A payload is a
string of TLV fields ``ID(2) LENGTH(2) VALUE`` in ASCII:

====  =====================================================================
ID    field
====  =====================================================================
00    Payload Format Indicator, ``01``
01    Point of Initiation Method (optional): ``12`` = use once
26    Merchant Account Information: ``00`` GUI ``br.gov.bcb.pix``, ``01`` the PIX
      key, ``02`` optional free text (the whole field at most 99 characters)
52    Merchant Category Code, ``0000``
53    Transaction Currency, ``986`` (BRL)
54    Transaction Amount (optional): ``123.45``, at most 13 characters
58    Country Code, ``BR``
59    Merchant Name, at most 25 characters
60    Merchant City, at most 15 characters
62    Additional Data Field Template: ``05`` Reference Label (``txid``): at most 25
      characters from ``A-Z a-z 0-9``, or ``***`` when none
63    CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF) of the whole payload up to and
      including ``6304``, as 4 upper-case hex digits
====  =====================================================================

Pure: standard library only, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

GUI = "br.gov.bcb.pix"
NO_TXID = "***"
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
MAX_MERCHANT_ACCOUNT = 99
MAX_AMOUNT_CHARS = 13
_TXID_RE = re.compile(r"^[A-Za-z0-9]{1,25}$")
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2013": "-", "\u2014": "-"})


class BRCodeError(ValueError):
    """A value that cannot go into a BR Code, or a payload that is not a valid one."""


def crc16(data: str) -> str:
    """CRC16-CCITT-FALSE of ``data`` (UTF-8 bytes) as 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def ascii_text(value: str, limit: int) -> str:
    """``value`` in the EMV common character set: accents dropped, spaces collapsed, cut."""
    plain = unicodedata.normalize("NFKD", value.translate(_PLAIN))
    kept = "".join(ch for ch in plain if 0x20 <= ord(ch) <= 0x7E)
    return " ".join(kept.split())[:limit].rstrip()


def format_amount(amount: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``"1234.50"``: dot separator, two decimals, no grouping."""
    if not isinstance(amount, Decimal):
        raise BRCodeError("the amount must be a Decimal")
    if amount <= 0:
        raise BRCodeError("the amount must be positive")
    if amount != amount.quantize(Decimal("0.01")):
        raise BRCodeError("the amount has fractions of a cent")
    text = f"{amount:.2f}"
    if len(text) > MAX_AMOUNT_CHARS:
        raise BRCodeError("the amount is too large for a BR Code")
    return text


def valid_txid(txid: str) -> bool:
    return txid == NO_TXID or bool(_TXID_RE.match(txid))


def field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise BRCodeError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def build(key: str, name: str, city: str, amount: Decimal | None = None, txid: str = NO_TXID,
          description: str = "", *, single_use: bool = False) -> str:
    """The "copia e cola" payload for a static PIX charge to ``key``.

    ``name`` and ``city`` are made ASCII and cut to 25 / 15 characters; ``txid`` must be
    1 to 25 letters and digits (or ``***``); ``description`` goes in 26-02.
    """
    key = key.strip()
    if not key:
        raise BRCodeError("the PIX key is empty")
    if not valid_txid(txid):
        raise BRCodeError(f"txid {txid!r} must be 1 to 25 letters and digits, or ***")
    merchant_name, merchant_city = ascii_text(name, MAX_NAME), ascii_text(city, MAX_CITY)
    if not merchant_name:
        raise BRCodeError("the merchant name is empty")
    if not merchant_city:
        raise BRCodeError("the merchant city is empty")
    account = field("00", GUI) + field("01", key)
    info = ascii_text(description, MAX_MERCHANT_ACCOUNT)
    if info:
        account += field("02", info)
    if len(account) > MAX_MERCHANT_ACCOUNT:
        raise BRCodeError("the PIX key and description exceed the 99 characters of field 26")
    parts = [field("00", "01")]
    if single_use:
        parts.append(field("01", "12"))
    parts += [field("26", account), field("52", "0000"), field("53", "986")]
    if amount is not None:
        parts.append(field("54", format_amount(amount)))
    parts += [field("58", "BR"), field("59", merchant_name), field("60", merchant_city),
              field("62", field("05", txid))]
    body = "".join(parts) + "6304"
    return body + crc16(body)


def fields(payload: str) -> dict[str, str]:
    """The top-level TLV fields of ``payload`` (no checks beyond the TLV structure)."""
    result: dict[str, str] = {}
    index = 0
    while index < len(payload):
        tag, size = payload[index:index + 2], payload[index + 2:index + 4]
        if len(tag) < 2 or not size.isdigit():
            raise BRCodeError(f"malformed field at position {index}")
        end = index + 4 + int(size)
        if end > len(payload):
            raise BRCodeError(f"field {tag} runs past the end of the payload")
        result[tag] = payload[index + 4:end]
        index = end
    return result


@dataclass(frozen=True)
class PixCharge:
    """What a PIX BR Code asks for."""

    key: str
    name: str
    city: str
    amount: Decimal | None
    txid: str
    description: str = ""
    single_use: bool = False


def parse(payload: str) -> PixCharge:
    """Check and read a PIX payload: CRC, mandatory fields, GUI, lengths, amount, txid."""
    payload = payload.strip()
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise BRCodeError("the payload does not end with a CRC field (6304....)")
    expected = crc16(payload[:-4])
    if payload[-4:].upper() != expected:
        raise BRCodeError(f"CRC mismatch: payload says {payload[-4:]}, content gives {expected}")
    top = fields(payload)
    if not payload.startswith("000201"):
        raise BRCodeError("the payload must start with the format indicator 000201")
    for tag in ("26", "52", "53", "58", "59", "60", "62"):
        if tag not in top:
            raise BRCodeError(f"mandatory field {tag} is missing")
    if top["53"] != "986" or top["58"] != "BR":
        raise BRCodeError("not a payment in reais in Brazil")
    account = fields(top["26"])
    if account.get("00", "").lower() != GUI or "01" not in account:
        raise BRCodeError("field 26 carries no PIX key")
    if len(top["59"]) > MAX_NAME or len(top["60"]) > MAX_CITY:
        raise BRCodeError("merchant name or city too long")
    amount = None
    if "54" in top:
        if not re.fullmatch(r"\d+(\.\d{1,2})?", top["54"]) or len(top["54"]) > MAX_AMOUNT_CHARS:
            raise BRCodeError(f"malformed amount {top['54']!r}")
        amount = Decimal(top["54"]).quantize(Decimal("0.01"))
    txid = fields(top["62"]).get("05", NO_TXID)
    # Reading is lenient (the BR Code manual's own example has "RP12345678-2019");
    # building is strict (PIX txids are letters and digits).
    if not 1 <= len(txid) <= MAX_TXID:
        raise BRCodeError(f"invalid txid {txid!r}")
    return PixCharge(key=account["01"], name=top["59"], city=top["60"], amount=amount, txid=txid,
                     description=account.get("02", ""), single_use=top.get("01") == "12")
