"""Request and response bodies of the HTTP API (CONTRACT §4). Money is a decimal string."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)
from validate_docbr import CNPJ

from bot.policies.models import validate_timezone

_MONEY_RE = re.compile(r"^\d{1,12}(\.\d{1,2})?$")


def _money(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('must be a decimal string such as "1500.00" (numbers are refused)')
    if not _MONEY_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not an amount with at most two decimals, like \"1500.00\"")
    return Decimal(value.strip())


MoneyIn = Annotated[Decimal, BeforeValidator(_money)]
MoneyOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
PercentOut = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str)]
Channel = Literal["web", "telegram", "whatsapp", "sms"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ContactIn(_In):
    name: str = ""
    channel: Channel
    address: Annotated[str, Field(min_length=1, max_length=200)]
    locale: Literal["pt-BR", "en"] | None = None
    timezone: str | None = None

    _tz = field_validator("timezone")(lambda v: v if v is None else validate_timezone(v))


class DebtIn(_In):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    amount: MoneyIn
    currency: Literal["BRL"] = "BRL"
    due_date: date
    description: str = ""

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value


class DebtorIn(_In):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    tax_id: str
    timezone: str = "America/Sao_Paulo"
    locale: Literal["pt-BR", "en"] = "pt-BR"
    contacts: list[ContactIn] = Field(default_factory=list)
    debts: list[DebtIn] = Field(default_factory=list)

    @field_validator("tax_id")
    @classmethod
    def _cnpj(cls, value: str) -> str:
        if not CNPJ().validate(value):
            raise ValueError(f"{value!r} is not a valid CNPJ")
        return value

    _tz = field_validator("timezone")(lambda v: validate_timezone(v))


class PortfolioIn(_In):
    creditor: Annotated[str, Field(min_length=1)]
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


class PaymentIn(_In):
    """A payment received. Matched to a debt by ``debt_external_id`` or, for a charge the bot
    issued (PIX copia e cola, boleto, link), by its ``txid`` (docs/payments.md)."""

    debt_external_id: Annotated[str, Field(min_length=1)] | None = None
    amount: MoneyIn
    paid_at: datetime
    creditor: str | None = None
    reference: str | None = None
    txid: Annotated[str, Field(min_length=1, max_length=35)] | None = None

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
        return value

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("must be greater than zero")
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


class DebtorOut(BaseModel):
    external_id: str
    name: str
    tax_id: str
    creditor: str
    debts: list[DebtOut]
    agreements: list[AgreementOut]
    conversations: list[ConversationOut]


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
        "oneOf": [{"required": ["token"]}, {"required": ["sender"]}]})
    sender: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    token: Annotated[str | None, Field(min_length=1, max_length=1000)] = None
    text: Annotated[str, Field(max_length=20_000)] = ""

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
