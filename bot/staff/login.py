"""GET/POST /login and POST /logout for staff (agents and admins); GET /staff/lang, the
language switch in the header (a cookie, pt-BR unless it says English)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from bot.api.deps import ContainerDep
from bot.services.staff_accounts import LoginRefused
from bot.staff.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfStaffDep,
    client_address,
    page,
    set_cookie,
)
from bot.staff.i18n import LANG_COOKIE, STAFF_LOCALES, locale_of

router = APIRouter(tags=["staff"], include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only local paths (no //host, no scheme) may be a post-login target."""
    return target if target.startswith("/") and not target.startswith("//") else "/agent"


def _login_page(request: Request, next_url: str, error: str = "", code: int = 200,
                retry_after: int = 0) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", code, csrf_token=token, next_url=_safe_next(next_url), error=error,
                    staff=None)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    set_cookie(response, request, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
async def login_form(request: Request, next: str = "/agent") -> Response:
    return _login_page(request, next)


@router.post("/login")
async def login(request: Request, container: ContainerDep, name: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
                next: Annotated[str, Form()] = "/agent") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf_token.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid or missing CSRF token")
    _ = locale_of(request).gettext
    try:
        token, staff = await container.staff.login(name, password, client_address(request))
    except LoginRefused as exc:
        if exc.reason == "rate_limited":
            return _login_page(
                request, next, _("Too many failed attempts: try again in %(seconds)s s.")
                % {"seconds": exc.retry_after}, 429, retry_after=exc.retry_after)
        return _login_page(request, next, _("Wrong name or password."), 401)
    target = _safe_next(next)
    if target.startswith("/admin") and not staff.is_admin:
        target = "/agent"
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    set_cookie(response, request, SESSION_COOKIE, token, max_age=12 * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    await container.staff.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/staff/lang")
async def switch_language(request: Request, to: str = "pt-BR", next: str = "/agent") -> Response:
    """The header's language switch: remembers ``to`` (a year, this browser) and goes back."""
    if to not in STAFF_LOCALES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"unknown language {to!r}: one of {', '.join(STAFF_LOCALES)}")
    response = RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    set_cookie(response, request, LANG_COOKIE, to, max_age=365 * 24 * 3600)
    return response
