"""The template admin (/admin): templates per name, locale and channel; versions; policies."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bot.api.deps import ContainerDep
from bot.rendering.renderer import SUPPORTED_LOCALES
from bot.rendering.template_rules import CHANNELS, TemplateCheck
from bot.services.staff_accounts import StaffIdentity
from bot.services.template_admin import TemplateAdminError, TemplateKey
from bot.staff.deps import SECURITY_HEADERS, AdminCsrfDep, AdminStaffDep, page
from bot.staff.i18n import locale_of
from bot.staff.labels.templates import SITUATIONS
from bot.staff.template_list import ALL_CHANNEL_NAMES, BadFilter, TemplateFilters, template_rows

router = APIRouter(prefix="/admin", tags=["staff"], include_in_schema=False)


def _key(name: str, locale: str, channel: str) -> TemplateKey:
    try:
        return TemplateKey(name, locale, channel).validate()
    except TemplateAdminError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc


def _edit_url(key: TemplateKey, **extra: str) -> str:
    query = {"channel": key.channel, **extra} if key.channel else extra
    return f"/admin/templates/{key.locale}/{key.name}" + (f"?{urlencode(query)}" if query else "")


@router.get("")
async def template_list(request: Request, container: ContainerDep, staff: AdminStaffDep,
                        msg: str = "", q: str = "", locale: str = "", channel: str = "",
                        situation: str = "") -> Response:
    try:
        filters = TemplateFilters(q, locale, channel, situation).validate()
    except BadFilter as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    entries = await container.template_admin.overview()
    rows = template_rows(entries, filters, locale_of(request))
    return page(request, "admin_list.html", staff=staff, rows=rows, filters=filters,
                channels=CHANNELS, all_channels=ALL_CHANNEL_NAMES, situations=SITUATIONS,
                locales=SUPPORTED_LOCALES, msg=msg)


@router.post("/templates/new")
async def new_template(staff: AdminCsrfDep, name: Annotated[str, Form()],
                       locale: Annotated[str, Form()], channel: Annotated[str, Form()] = "") -> Response:
    try:
        key = TemplateKey(name.strip(), locale, channel).validate()
    except TemplateAdminError as exc:
        return RedirectResponse(f"/admin?msg={quote(str(exc))}", status.HTTP_303_SEE_OTHER)
    return RedirectResponse(_edit_url(key), status.HTTP_303_SEE_OTHER)


async def _edit_page(request: Request, container: Any, staff: StaffIdentity, key: TemplateKey, *,
                     source: str | None = None, content_sid: str | None = None,
                     check: TemplateCheck | None = None,
                     msg: str = "", code: int = 200) -> Response:
    current, current_sid, version = await container.template_admin.current(key)
    return page(request, "admin_edit.html", code, staff=staff, key=key,
                source=current if source is None else source,
                content_sid=(current_sid if content_sid is None else content_sid) or "",
                version=version, versions=await container.template_admin.versions(key),
                variables=container.template_admin.variables(key), check=check, msg=msg,
                channels=CHANNELS)


@router.get("/templates/{locale}/{name}")
async def edit_template(request: Request, locale: str, name: str, container: ContainerDep,
                        staff: AdminStaffDep, channel: str = "", msg: str = "") -> Response:
    return await _edit_page(request, container, staff, _key(name, locale, channel), msg=msg)


@router.post("/templates/{locale}/{name}")
async def save_template(request: Request, locale: str, name: str, container: ContainerDep,
                        staff: AdminCsrfDep, source: Annotated[str, Form()] = "",
                        channel: Annotated[str, Form()] = "",
                        content_sid: Annotated[str, Form()] = "") -> Response:
    key = _key(name, locale, channel)
    check, version = await container.template_admin.save(staff, key, source, content_sid)
    if version is None:
        return await _edit_page(request, container, staff, key, source=source, content_sid=content_sid,
                                check=check, code=422)
    saved = locale_of(request).gettext("Saved as version %(version)s.") % {"version": version}
    return RedirectResponse(_edit_url(key, msg=saved),
                            status.HTTP_303_SEE_OTHER)


@router.post("/templates/{locale}/{name}/rollback")
async def rollback_template(request: Request, locale: str, name: str, container: ContainerDep,
                            staff: AdminCsrfDep, version_id: Annotated[int, Form()],
                            channel: Annotated[str, Form()] = "") -> Response:
    key = _key(name, locale, channel)
    try:
        check, version = await container.template_admin.rollback(staff, key, version_id)
    except TemplateAdminError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    if version is None:
        return await _edit_page(request, container, staff, key, check=check, code=422)
    restored = locale_of(request).gettext("Restored as version %(version)s.") % {"version": version}
    return RedirectResponse(_edit_url(key, msg=restored),
                            status.HTTP_303_SEE_OTHER)


class PreviewIn(BaseModel):
    name: str
    locale: str
    channel: str = ""
    source: str = Field(default="", max_length=20_000)
    content_sid: str = ""


@router.post("/templates/preview")
async def preview(body: PreviewIn, container: ContainerDep, staff: AdminCsrfDep) -> JSONResponse:
    key = _key(body.name, body.locale, body.channel)
    check = container.template_admin.check(key, body.source, body.content_sid or None)
    return JSONResponse({"ok": check.ok, "preview": check.preview,
                         "problems": [{"code": p.code, "message": p.message} for p in check.problems],
                         "warnings": [{"code": w.code, "message": w.message} for w in check.warnings]},
                        headers=SECURITY_HEADERS)


@router.get("/policies")
async def policies(request: Request, container: ContainerDep, staff: AdminStaffDep) -> Response:
    return page(request, "admin_policies.html", staff=staff, report=container.template_admin.policy_report())
