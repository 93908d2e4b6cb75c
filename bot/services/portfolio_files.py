"""Read portfolio and payment files (CSV or JSON) into validated API bodies, row by row.

CSV layout (one row per invoice; a debtor's fields repeat on each of its rows,
extra contacts go on extra rows): see docs/import.md.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from bot.api import schemas

PORTFOLIO_COLUMNS = (
    "debtor_external_id", "debtor_name", "debtor_tax_id", "debtor_timezone", "debtor_locale",
    "contact_name", "contact_channel", "contact_address", "contact_locale",
    "debt_external_id", "amount", "currency", "due_date", "description",
)
PAYMENT_COLUMNS = ("debt_external_id", "amount", "paid_at", "reference", "creditor")
T = TypeVar("T")


@dataclass
class ParsedFile(Generic[T]):
    items: list[tuple[int, T]] = field(default_factory=list)
    rejected: list[schemas.RejectedRow] = field(default_factory=list)


def _rejections(line: int, error: ValidationError, prefix: str = "") -> list[schemas.RejectedRow]:
    return [
        schemas.RejectedRow(row=line, field=prefix + ".".join(str(p) for p in e["loc"]),
                            reason=str(e["msg"]).removeprefix("Value error, "))
        for e in error.errors()
    ]


def read_portfolio(path: Path, creditor: str | None) -> tuple[str, ParsedFile[schemas.DebtorIn]]:
    """Returns the creditor id and the valid debtors with their first line number."""
    if path.suffix.lower() == ".json":
        return _portfolio_json(path, creditor)
    return _portfolio_csv(path, creditor)


def _portfolio_json(path: Path, creditor: str | None) -> tuple[str, ParsedFile[schemas.DebtorIn]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object with 'creditor' and 'debtors'")
    creditor_id = creditor or data.get("creditor")
    if not creditor_id:
        raise ValueError(f"{path}: no creditor in the file; pass --creditor ID")
    parsed: ParsedFile[schemas.DebtorIn] = ParsedFile()
    for index, raw in enumerate(data.get("debtors") or []):
        try:
            parsed.items.append((index, schemas.DebtorIn.model_validate(raw)))
        except ValidationError as exc:
            parsed.rejected.extend(_rejections(index, exc, f"debtors.{index}."))
    return str(creditor_id), parsed


def _portfolio_csv(path: Path, creditor: str | None) -> tuple[str, ParsedFile[schemas.DebtorIn]]:
    if not creditor:
        raise ValueError(f"{path}: a CSV portfolio needs --creditor ID")
    grouped: dict[str, tuple[int, dict[str, Any]]] = {}
    parsed: ParsedFile[schemas.DebtorIn] = ParsedFile()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("debtor_external_id", "debtor_name", "debtor_tax_id")
                   if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        for row in reader:
            line = reader.line_num
            key = (row.get("debtor_external_id") or "").strip()
            if not key:
                parsed.rejected.append(schemas.RejectedRow(row=line, field="debtor_external_id",
                                                           reason="is empty"))
                continue
            _, debtor = grouped.setdefault(key, (line, {
                "external_id": key, "name": row.get("debtor_name", ""),
                "tax_id": row.get("debtor_tax_id", ""),
                "timezone": row.get("debtor_timezone") or "America/Sao_Paulo",
                "locale": row.get("debtor_locale") or "pt-BR", "contacts": [], "debts": [],
            }))
            try:
                _add_csv_row(debtor, row)
            except ValidationError as exc:
                parsed.rejected.extend(_rejections(line, exc))
    for line, raw in grouped.values():
        try:
            parsed.items.append((line, schemas.DebtorIn.model_validate(raw)))
        except ValidationError as exc:
            parsed.rejected.extend(_rejections(line, exc))
    return creditor, parsed


def _add_csv_row(debtor: dict[str, Any], row: dict[str, str]) -> None:
    if row.get("contact_address"):
        contact = schemas.ContactIn.model_validate({
            "name": row.get("contact_name") or "", "channel": row.get("contact_channel") or "",
            "address": row["contact_address"], "locale": row.get("contact_locale") or None,
        })
        if all(c["address"] != contact.address for c in debtor["contacts"]):
            debtor["contacts"].append(contact.model_dump())
    if row.get("debt_external_id"):
        debt = schemas.DebtIn.model_validate({
            "external_id": row["debt_external_id"], "amount": row.get("amount") or "",
            "currency": row.get("currency") or "BRL", "due_date": row.get("due_date") or "",
            "description": row.get("description") or "",
        })
        debtor["debts"].append({**debt.model_dump(), "amount": str(debt.amount)})


def read_payments(path: Path) -> ParsedFile[schemas.PaymentIn]:
    parsed: ParsedFile[schemas.PaymentIn] = ParsedFile()
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data if isinstance(data, list) else data.get("payments", [])
        for index, raw in enumerate(rows):
            try:
                parsed.items.append((index, schemas.PaymentIn.model_validate(raw)))
            except ValidationError as exc:
                parsed.rejected.extend(_rejections(index, exc))
        return parsed
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            clean = {k: v for k, v in row.items() if k in PAYMENT_COLUMNS and v not in (None, "")}
            try:
                parsed.items.append((reader.line_num, schemas.PaymentIn.model_validate(clean)))
            except ValidationError as exc:
                parsed.rejected.extend(_rejections(reader.line_num, exc))
    return parsed
