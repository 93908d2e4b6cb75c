"""The API Pix emulator's request checks and answers: RFC 7807 problems, cob/cobv bodies
validated as the spec's schemas describe, the dynamic BR Code (``pixCopiaECola``) of a charge."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from aiohttp import web

from bot.payments.brcode import GUI, crc16, field

Problem = web.Response
MONEY_RE = re.compile(r"^\d{1,10}\.\d{2}$")
PERCENT_RE = re.compile(r"^\d{1,10}\.\d{2}$")
ERROR_BASE = "https://pix.bcb.gov.br/api/v2/error/"


def problem(status: int, kind: str, title: str, detail: str,
            violations: list[tuple[str, str]] | None = None) -> Problem:
    body: dict[str, Any] = {"type": ERROR_BASE + kind, "title": title, "status": status,
                            "detail": detail}
    if violations:
        body["violacoes"] = [{"propriedade": p, "razao": r} for p, r in violations]
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


def _money(value: Any, name: str, *, positive: bool = True) -> list[tuple[str, str]]:
    if not isinstance(value, str) or not MONEY_RE.match(value):
        return [(name, "formato 0.00 (ponto decimal, sem separador de milhar)")]
    if positive and Decimal(value) <= 0:
        return [(name, "deve ser maior que zero")]
    return []


def _debtor(devedor: Any, required: bool) -> list[tuple[str, str]]:
    if devedor is None:
        return [("devedor", "obrigatório na cobrança com vencimento")] if required else []
    if not isinstance(devedor, dict) or not str(devedor.get("nome", "")).strip():
        return [("devedor.nome", "obrigatório")]
    cpf, cnpj = devedor.get("cpf"), devedor.get("cnpj")
    if (cpf is None) == (cnpj is None):
        return [("devedor", "informe cpf ou cnpj, um só")]
    if cpf is not None and not re.fullmatch(r"\d{11}", str(cpf)):
        return [("devedor.cpf", "11 dígitos")]
    if cnpj is not None and not re.fullmatch(r"\d{14}", str(cnpj)):
        return [("devedor.cnpj", "14 dígitos")]
    return []


def _modality(value: Any, name: str, allowed: range) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict) or value.get("modalidade") not in allowed:
        return [(f"{name}.modalidade", f"de {allowed.start} a {allowed.stop - 1}")]
    if not isinstance(value.get("valorPerc"), str) or not PERCENT_RE.match(value["valorPerc"]):
        return [(f"{name}.valorPerc", "formato 0.00")]
    return []


def _calendar(kind: str, calendario: Any) -> list[tuple[str, str]]:
    if not isinstance(calendario, dict):
        return [("calendario", "obrigatório")] if kind == "cobv" else []
    if kind == "cob":
        expiry = calendario.get("expiracao", 86400)
        return [] if isinstance(expiry, int) and expiry > 0 else [("calendario.expiracao", "inteiro > 0")]
    try:
        date.fromisoformat(str(calendario.get("dataDeVencimento")))
    except ValueError:
        return [("calendario.dataDeVencimento", "data AAAA-MM-DD obrigatória")]
    after = calendario.get("validadeAposVencimento", 30)
    return [] if isinstance(after, int) and after >= 0 else [
        ("calendario.validadeAposVencimento", "inteiro >= 0")]


def charge_errors(kind: str, body: Any, chave: str) -> list[tuple[str, str]]:
    """What is wrong with a ``cob`` or ``cobv`` body (empty: nothing)."""
    if not isinstance(body, dict):
        return [("", "o corpo deve ser um objeto")]
    errors = [] if body.get("chave") == chave else [("chave", "não é uma chave deste recebedor")]
    valor = body.get("valor")
    if not isinstance(valor, dict):
        return [*errors, ("valor.original", "obrigatório")]
    errors += _money(valor.get("original"), "valor.original")
    errors += _calendar(kind, body.get("calendario"))
    errors += _debtor(body.get("devedor"), kind == "cobv")
    if kind == "cobv":
        errors += _modality(valor.get("multa"), "valor.multa", range(1, 3))
        errors += _modality(valor.get("juros"), "valor.juros", range(1, 9))
    elif any(k in valor for k in ("multa", "juros", "desconto", "abatimento")):
        errors.append(("valor", "multa, juros e desconto só na cobrança com vencimento"))
    return errors


def dynamic_brcode(location: str, name: str = "PSP EMULADOR", city: str = "BRASILIA") -> str:
    """The "copia e cola" of a dynamic charge: 26-25 holds the payload location (no amount)."""
    parts = [field("00", "01"), field("01", "12"), field("26", field("00", GUI) + field("25", location)),
             field("52", "0000"), field("53", "986"), field("58", "BR"), field("59", name),
             field("60", city), field("62", field("05", "***"))]
    body = "".join(parts) + "6304"
    return body + crc16(body)
