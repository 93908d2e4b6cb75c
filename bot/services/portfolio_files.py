"""Read portfolio and payment files (CSV or JSON) into validated API bodies, row by row.

CSV layout (one row per invoice; a debtor's fields repeat on each of its rows,
extra contacts go on extra rows): see docs/import.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Generic, TypeVar

from pydantic import ValidationError

from bot import schemas

PORTFOLIO_COLUMNS = (
    "debtor_external_id", "debtor_name", "debtor_tax_id", "debtor_timezone", "debtor_locale",
    "contact_name", "contact_channel", "contact_address", "contact_locale",
    "debt_external_id", "amount", "currency", "due_date", "description", "contact_timezone",
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


@dataclass
class PortfolioChunk:
    """Valid debtors (with their first line) and rejected rows of part of a file."""

    items: list[tuple[int, schemas.DebtorIn]] = field(default_factory=list)
    rejected: list[schemas.RejectedRow] = field(default_factory=list)
    rows: int = 0            # file rows (CSV lines or JSON debtors) read for this chunk
    bytes_read: int = 0      # how far into the file (for a progress bar)


class _CountingReader(io.RawIOBase):
    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[:len(data)] = data
        self.count += len(data)
        return len(data)


def iter_portfolio(path: Path, creditor: str | None, *, chunk_rows: int | None = 20_000,
                   ) -> tuple[str, Iterator[PortfolioChunk]]:
    """The creditor id and the file in chunks of about ``chunk_rows`` rows (``None``: one chunk).

    A CSV is streamed (memory stays flat whatever the file's size): the rows of one debtor
    are grouped within a chunk; a debtor whose rows are far apart in the file is simply
    upserted once per chunk it appears in (upserts merge). A JSON file is read whole.
    """
    if path.suffix.lower() == ".json":
        creditor_id, parsed = _portfolio_json(path, creditor)
        size = path.stat().st_size
        step = max(1, chunk_rows // 5) if chunk_rows else max(1, len(parsed.items))

        def json_chunks() -> Iterator[PortfolioChunk]:
            items = parsed.items
            if not items:
                yield PortfolioChunk([], parsed.rejected, len(parsed.rejected), size)
                return
            for start in range(0, len(items), step):
                part = items[start:start + step]
                last = start + step >= len(items)
                yield PortfolioChunk(part, parsed.rejected if last else [], len(part), size if last else 0)

        return creditor_id, json_chunks()
    if not creditor:
        raise ValueError(f"{path}: a CSV portfolio needs --creditor ID")
    handle = path.open("rb")
    counter = _CountingReader(handle)
    text = io.TextIOWrapper(io.BufferedReader(counter, buffer_size=1 << 20), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    header = next(reader, None) or []
    missing = [c for c in ("debtor_external_id", "debtor_name", "debtor_tax_id") if c not in header]
    if missing:
        handle.close()
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    return creditor, _csv_chunks(reader, header, counter, handle, chunk_rows)


def _csv_chunks(reader: Any, header: list[str], counter: _CountingReader, handle: BinaryIO,
                chunk_rows: int | None) -> Iterator[PortfolioChunk]:
    index = {name: i for i, name in enumerate(header)}
    width = len(header)
    try:
        while True:
            grouped: dict[str, tuple[int, dict[str, Any]]] = {}
            chunk = PortfolioChunk()
            for values in reader:
                line = reader.line_num
                chunk.rows += 1
                if len(values) < width:
                    values = values + [""] * (width - len(values))
                row = {name: values[i] for name, i in index.items()}
                key = row.get("debtor_external_id", "").strip()
                if not key:
                    chunk.rejected.append(schemas.RejectedRow(row=line, field="debtor_external_id",
                                                              reason="is empty"))
                else:
                    _, debtor = grouped.setdefault(key, (line, {
                        "external_id": key, "name": row.get("debtor_name", ""),
                        "tax_id": row.get("debtor_tax_id", ""),
                        "timezone": row.get("debtor_timezone") or "America/Sao_Paulo",
                        "locale": row.get("debtor_locale") or "pt-BR", "contacts": [], "debts": [],
                    }))
                    try:
                        _add_csv_row(debtor, row)
                    except ValidationError as exc:
                        chunk.rejected.extend(_rejections(line, exc))
                if chunk_rows is not None and chunk.rows >= chunk_rows:
                    break
            for line, raw in grouped.values():
                try:
                    chunk.items.append((line, schemas.DebtorIn.model_validate(raw)))
                except ValidationError as exc:
                    chunk.rejected.extend(_rejections(line, exc))
            chunk.bytes_read = counter.count
            if chunk.rows == 0:
                return
            yield chunk
            if chunk_rows is None:
                return
    finally:
        handle.close()


def _add_csv_row(debtor: dict[str, Any], row: dict[str, str]) -> None:
    address = (row.get("contact_address") or "").strip()
    if address and all(c.address != address for c in debtor["contacts"]):
        debtor["contacts"].append(schemas.ContactIn.model_validate({
            "name": row.get("contact_name") or "", "channel": row.get("contact_channel") or "",
            "address": address, "locale": row.get("contact_locale") or None,
            "timezone": row.get("contact_timezone") or None,
        }))
    if row.get("debt_external_id"):
        debtor["debts"].append(schemas.DebtIn.model_validate({
            "external_id": row["debt_external_id"], "amount": row.get("amount") or "",
            "currency": row.get("currency") or "BRL", "due_date": row.get("due_date") or "",
            "description": row.get("description") or "",
        }))


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
