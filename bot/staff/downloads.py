"""Downloads from the staff pages: CSV files with a safe ``Content-Disposition``."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from bot.staff.deps import SECURITY_HEADERS


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download: an ASCII fallback name and the exact name in
    RFC 5987 form (``filename*=UTF-8''…``), so any debtor id fits in the header."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_download(body: str, filename: str) -> Response:
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition": attachment(filename)})
