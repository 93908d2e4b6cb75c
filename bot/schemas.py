"""Validated request and response bodies of the HTTP API, shared with the CLI and the services
(see /openapi.json). Money is a decimal string."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from validate_docbr import CNPJ

from bot.policies.models import ChannelName, validate_timezone

# A positive amount of at most 9,999,999,999.99 with up to two decimals and no leading zeros,
# as the API states it in /openapi.json (the same expression checks it).
MONEY_PATTERN = r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?))$"
_MONEY_RE = re.compile(MONEY_PATTERN)
_MONEY_SCHEMA = {"type": "string", "pattern": MONEY_PATTERN, "maxLength": 13,
                 "description": 'a decimal string greater than zero and at most "9999999999.99", '
                                "with up to two decimals (numbers are refused)",
                 "examples": ["1500.00"]}


def _money(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('must be a decimal string such as "1500.00" (numbers are refused)')
    if not _MONEY_RE.match(value.strip()):
        raise ValueError('must be an amount greater than zero and at most "9999999999.99", '
                         'with at most two decimals, like "1500.00"')
    return Decimal(value.strip())


def email_address(value: str) -> str:
    """A contact's e-mail address as stored: syntax checked by ``email-validator`` (no DNS
    lookup), the domain lower-cased (the local part is kept: it may be case-sensitive)."""
    try:
        checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from exc
    return f"{checked.local_part}@{checked.ascii_domain.lower()}"


def _timezone(value: str) -> str:
    try:
        return validate_timezone(value)
    except ValueError:
        raise ValueError("unknown time zone: give an IANA name such as America/Sao_Paulo") from None


MoneyIn = Annotated[Decimal, BeforeValidator(_money), WithJsonSchema(_MONEY_SCHEMA)]
# One line of text: no control characters (PostgreSQL refuses NUL; none belongs in an id).
LINE = r"^[^\x00-\x1f\x7f]*$"
# Text that may span lines: tabs and newlines, no other control character.
TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=LINE)]
Timezone = Annotated[str, Field(min_length=1, max_length=64, examples=["America/Sao_Paulo"],
                                description="an IANA time zone name"), AfterValidator(_timezone)]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
PercentOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Channel = ChannelName


# Valid requests, shown as the examples of /openapi.json (a test sends each of them).
PORTFOLIO_EXAMPLE: dict[str, JsonValue] = {
    "creditor": "demo",
    "debtors": [{
        "external_id": "acme", "name": "Acme Comércio Ltda", "tax_id": "52.601.815/9083-69",
        "timezone": "America/Sao_Paulo", "locale": "pt-BR",
        "contacts": [{"name": "Rita Alves", "channel": "web", "address": "rita@acme.com.br"}],
        "debts": [{"external_id": "NF-9", "amount": "1000.00", "currency": "BRL",
                   "due_date": "2026-10-01", "description": "NF 9"}],
    }],
}
PAYMENT_EXAMPLE: dict[str, JsonValue] = {"debt_external_id": "NF-9", "amount": "250.00", "creditor": "demo",
                   "paid_at": "2026-11-26T10:00:00-03:00", "reference": "TED-0001"}
WEB_MESSAGE_EXAMPLE: dict[str, JsonValue] = {"sender": "rita@acme.com.br", "text": "Quero negociar"}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_In):
    name: Annotated[str, Field(max_length=200, pattern=LINE)] = ""
    channel: Channel
    address: Annotated[str, Field(min_length=1, max_length=200, pattern=LINE,
                                  description="the address on the channel; on `email` a valid "
                                              "e-mail address (its domain is lower-cased)")]
    locale: Literal["pt-BR", "en"] | None = None
    timezone: Timezone | None = None

    @model_validator(mode="after")
    def _email_address(self) -> ContactIn:
        if self.channel == "email":
            self.address = email_address(self.address)
        return self


class DebtIn(_In):
    external_id: Id
    amount: MoneyIn
    currency: Literal["BRL"] = "BRL"
    due_date: date
    description: Annotated[str, Field(max_length=500, pattern=TEXT)] = ""


class DebtorIn(_In):
    external_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=LINE)]
    tax_id: Annotated[str, Field(pattern=r"^[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}/?[0-9]{4}-?[0-9]{2}$",
                                 examples=["52.601.815/9083-69"],
                                 description="a CNPJ whose check digits are right")]
    timezone: Timezone = "America/Sao_Paulo"
    locale: Literal["pt-BR", "en"] = "pt-BR"
    contacts: Annotated[list[ContactIn], Field(max_length=50)] = Field(default_factory=list)
    debts: Annotated[list[DebtIn], Field(max_length=1_000)] = Field(default_factory=list)

    @field_validator("tax_id")
    @classmethod
    def _cnpj(cls, value: str) -> str:
        if not CNPJ().validate(value):
            raise ValueError("not a valid CNPJ")
        return value


class PortfolioIn(_In):
    model_config = ConfigDict(json_schema_extra={"examples": [PORTFOLIO_EXAMPLE]})
    creditor: Id
    debtors: list[DebtorIn]


class RejectedRow(BaseModel):
    row: int
    field: str
    reason: str


class ImportReport(BaseModel):
    creditor: str
    debtors: int = 0
    contacts: int = 0
    debts: int = 0
    rejected: list[RejectedRow] = Field(default_factory=list)


PAID_AT_YEARS = (2000, 2100)


class PaymentIn(_In):
    """A payment received. Matched to a debt by ``debt_external_id`` or, for a charge the bot
    issued (PIX copia e cola, boleto, link), by its ``txid`` (docs/payments.md)."""

    model_config = ConfigDict(json_schema_extra={"examples": [PAYMENT_EXAMPLE]})

    debt_external_id: Id | None = None
    amount: MoneyIn
    paid_at: Annotated[datetime, Field(description="with a time zone offset, years 2000 to 2100",
                                       examples=["2026-11-26T10:00:00-03:00"])]
    creditor: Id | None = None
    reference: Annotated[str, Field(min_length=1, max_length=128, pattern=LINE,
                                    description="the bank's id; unique per creditor: a repeat "
                                                "answers with the first payment")] | None = None
    txid: Annotated[str, Field(min_length=1, max_length=35, pattern=LINE)] | None = None

    @model_validator(mode="after")
    def _matched(self) -> PaymentIn:
        if self.debt_external_id is None and self.txid is None:
            raise ValueError("give debt_external_id or txid")
        return self

    @field_validator("paid_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must include a time zone offset, e.g. 2026-11-26T10:00:00-03:00")
        if not PAID_AT_YEARS[0] <= value.year <= PAID_AT_YEARS[1]:
            raise ValueError(f"must be between the years {PAID_AT_YEARS[0]} and {PAID_AT_YEARS[1]}")
        return value


class AllocationOut(BaseModel):
    number: int
    amount: MoneyOut


class PaymentOut(BaseModel):
    debt_external_id: str
    amount: MoneyOut
    paid_at: datetime
    debt_status: str
    debt_balance: MoneyOut
    duplicate: bool = False
    # Installments the payment went to (oldest first) and the agreement's status after it.
    installments: list[AllocationOut] = Field(default_factory=list)
    agreement_status: str | None = None


class InstallmentOut(BaseModel):
    number: int
    due_date: date
    amount: MoneyOut
    status: str


class AgreementOut(BaseModel):
    kind: str
    total: MoneyOut
    discount_percent: PercentOut
    installments: list[InstallmentOut]
    status: str
    created_by: str
    created_at: datetime


class MessageOut(BaseModel):
    direction: str
    author: str
    text: str
    at: datetime
    template: str | None = None


class ConversationOut(BaseModel):
    channel: str
    address: str
    state: str
    messages: list[MessageOut]


class DebtOut(BaseModel):
    external_id: str
    amount: MoneyOut
    balance: MoneyOut
    due_date: date
    status: str
    description: str


class ClaimOut(BaseModel):
    """A payment claim: what the debtor said was paid, and what an agent decided."""

    id: int
    status: Literal["pending", "confirmed", "rejected"]
    amount: MoneyOut | None = None
    paid_on: date | None = None
    reference: str | None = None
    bank: str | None = None
    text: str
    attachments: int = 0
    created_at: datetime
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None


class DebtorOut(BaseModel):
    external_id: str
    name: str
    tax_id: str
    creditor: str
    debts: list[DebtOut]
    agreements: list[AgreementOut]
    conversations: list[ConversationOut]
    claims: list[ClaimOut] = Field(default_factory=list)


class ButtonOut(BaseModel):
    title: str
    payload: str


class ReplyOut(BaseModel):
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)
    image: str | None = Field(None, description="a picture to show with the text (relative URL: "
                                                "the PIX QR code, /pay/<txid>.png); absent without one")


class WebMessageIn(BaseModel):
    """Either ``token`` (a portal link) or ``sender`` (with the admin bearer token, or in demo
    mode for the demo creditor's contacts); see docs/channels.md."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={
        "oneOf": [{"required": ["token"]}, {"required": ["sender"]}],
        "examples": [WEB_MESSAGE_EXAMPLE]})
    sender: Annotated[str | None, Field(min_length=1, max_length=200, pattern=LINE)] = None
    token: Annotated[str | None, Field(min_length=1, max_length=1000, pattern=LINE)] = None
    text: Annotated[str, Field(max_length=4096)] = ""

    @model_validator(mode="after")
    def _one_identity(self) -> WebMessageIn:
        if (self.sender is None) == (self.token is None):
            raise ValueError("give exactly one of 'token' (a portal link) or 'sender'")
        return self


class WebMessageOut(BaseModel):
    replies: list[ReplyOut]


class Health(BaseModel):
    status: Literal["ok", "not_ready"]
    checks: dict[str, bool] = Field(default_factory=dict)
