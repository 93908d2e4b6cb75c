"""Staff sign-in for the browser pages: session cookie, roles, CSRF, page rendering.

Unauthenticated requests to a staff page are redirected to ``/login``; an agent asking
for an admin page gets 403. Every form carries the session's CSRF token (``csrf_token``
field, or the ``X-CSRF-Token`` header for fetch calls).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.api.client_address import client_address as client_address
from bot.api.deps import ContainerDep
from bot.services.agent_desk.errors import DeskError, NotFound
from bot.services.staff_accounts import StaffIdentity
from bot.staff.i18n import DEFAULT_ZONE, render_page, request_locale
from bot.staff.i18n_markers import N_

SESSION_COOKIE = "acordo_session"
LOGIN_CSRF_COOKIE = "acordo_login_csrf"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
}


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The staff page ``name`` in the request's language (``bot/staff/i18n.py``); ``zone`` in
    ``context`` is the time zone its moments are shown in (default: the first creditor's)."""
    locale = request_locale(request)
    context.setdefault("zone", default_zone(request))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = render_page(locale, name, {"here": here, **context})
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def default_zone(request: Request, creditor: str | None = None) -> str:
    """The time zone staff read times in: ``creditor``'s policy's, else the first creditor's."""
    policies = request.app.state.container.policies
    chosen = creditor if creditor in policies else next(iter(sorted(policies)), None)
    return str(policies[chosen].creditor.timezone) if chosen else DEFAULT_ZONE


def secure_cookies(request: Request) -> bool:
    public_url = request.app.state.container.settings.public_url or ""
    return public_url.startswith("https://")


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=secure_cookies(request), path="/")


async def current_staff(request: Request, container: ContainerDep) -> StaffIdentity | None:
    return await container.staff.identify(request.cookies.get(SESSION_COOKIE, ""))


async def require_staff(request: Request,
                        staff: Annotated[StaffIdentity | None, Depends(current_staff)]
                        ) -> StaffIdentity:
    if staff is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first",
                            headers={"Location": f"/login?next={target}"})
    return staff


StaffDep = Annotated[StaffIdentity, Depends(require_staff)]


async def require_admin_staff(staff: StaffDep) -> StaffIdentity:
    if not staff.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("admins only"))
    return staff


AdminStaffDep = Annotated[StaffIdentity, Depends(require_admin_staff)]


async def require_csrf(request: Request, staff: StaffDep) -> StaffIdentity:
    """For POST routes: the session's CSRF token must come back."""
    given = request.headers.get("X-CSRF-Token", "")
    if not given:
        form = await request.form()
        value = form.get("csrf_token", "")
        given = value if isinstance(value, str) else ""
    if not secrets.compare_digest(given.encode(), staff.csrf_token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("invalid or missing CSRF token"))
    return staff


CsrfStaffDep = Annotated[StaffIdentity, Depends(require_csrf)]


async def require_admin_csrf(staff: CsrfStaffDep) -> StaffIdentity:
    if not staff.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, N_("admins only"))
    return staff


AdminCsrfDep = Annotated[StaffIdentity, Depends(require_admin_csrf)]


STAFF_PREFIXES = ("/agent", "/admin", "/login", "/logout", "/staff")


async def staff_error_pages(request: Request, exc: Exception) -> Response:
    """403/404/422 on the staff pages as a page (the redirect to /login passes through);
    anything else is FastAPI's usual JSON error."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException as StarletteHTTPException

    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith(STAFF_PREFIXES) and exc.status_code in (403, 404, 422):
        staff = await current_staff(request, request.app.state.container)  # the header's links
        return page(request, "error.html", exc.status_code, code=exc.status_code, detail=exc.detail,
                    staff=staff)
    return await http_exception_handler(request, exc)


def back_to(path: str, *, msg: str = "", error: str = "") -> RedirectResponse:
    """Back to the staff page ``path`` after a form (303), with a message or an error to show."""
    query = f"?msg={quote(msg)}" if msg else (f"?error={quote(error)}" if error else "")
    return RedirectResponse(f"{path}{query}", status.HTTP_303_SEE_OTHER)


async def desk_action(path: str, done: str, action: Callable[[], Awaitable[object]]) -> Response:
    """Run a desk action and go back to ``path``: ``done`` on success, the desk's refusal as
    the error, 404 for what does not exist."""
    try:
        await action()
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DeskError as exc:
        return back_to(path, error=str(exc))
    return back_to(path, msg=done)
