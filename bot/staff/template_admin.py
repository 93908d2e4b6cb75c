"""The template admin (/admin): templates per name, locale and channel; versions; policies."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bot.api.deps import ContainerDep
from bot.rendering.renderer import SUPPORTED_LOCALES
from bot.rendering.template_rules import CHANNELS, TemplateCheck
from bot.services.staff_accounts import StaffIdentity
from bot.services.template_admin import SHIPPED_VERSION, TemplateAdminError, TemplateKey
from bot.staff.deps import SECURITY_HEADERS, AdminCsrfDep, AdminStaffDep, page
from bot.staff.i18n import StaffLocale, locale_of
from bot.staff.i18n_markers import N_
from bot.staff.labels.template_problems import explain, shown
from bot.staff.labels.templates import SITUATIONS, about
from bot.staff.policy_summary import summarize
from bot.staff.template_diff import TextDiff, line_diff
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
    source = current if source is None else source
    gettext = locale_of(request).gettext
    return page(request, "admin_edit.html", code, staff=staff, key=key, source=source,
                problems=[shown(p, source, gettext) for p in check.problems] if check else [],
                shipped=container.template_admin.shipped(key) is not None,
                about=about(key.name), situations=SITUATIONS,
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


@router.get("/templates/{locale}/{name}/diff")
async def compare_versions(request: Request, locale: str, name: str, container: ContainerDep,
                           staff: AdminStaffDep, channel: str = "",
                           before: Annotated[int | None, Query(alias="from", ge=0, le=1_000_000)] = None,
                           after: Annotated[int | None, Query(alias="to", ge=0, le=1_000_000)] = None
                           ) -> Response:
    """Any two texts of a template side by side: its versions and the shipped text (0)."""
    key = _key(name, locale, channel)
    admin = container.template_admin
    versions = await admin.versions(key)
    after = (versions[0].version if versions else 0) if after is None else after
    before = max(after - 1, 0) if before is None else before
    words = locale_of(request)
    caption = words.gettext("From %(before)s to %(after)s") % {
        "before": _version_name(words, before), "after": _version_name(words, after)}
    choices = [(v.version, _version_name(words, v.version) + f" · {v.author}") for v in versions]
    if admin.shipped(key) is not None:
        choices.append((SHIPPED_VERSION, _version_name(words, SHIPPED_VERSION)))
    return page(request, "admin_diff.html", staff=staff, key=key, before=before, after=after,
                choices=choices, diff=await _diff(admin, key, before, after), diff_caption=caption,
                edit_url=_edit_url(key), diff_url=f"/admin/templates/{key.locale}/{key.name}/diff")


def _version_name(words: StaffLocale, number: int) -> str:
    if number == SHIPPED_VERSION:
        return words.gettext("the original text")
    return words.gettext("version %(version)s") % {"version": number}


async def _diff(admin: Any, key: TemplateKey, before: int, after: int) -> TextDiff:
    try:
        return line_diff(await admin.source_at(key, before), await admin.source_at(key, after))
    except TemplateAdminError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("no such version of this template")) from exc


async def _confirm_page(request: Request, staff: StaffIdentity, key: TemplateKey, *, target: int,
                        action: str, fields: dict[str, str], admin: Any,
                        check: TemplateCheck | None = None) -> Response:
    """What a rollback (or restoring the shipped text) will change, and the button that does it."""
    words = locale_of(request)
    versions = await admin.versions(key)
    in_use = versions[0].version if versions else SHIPPED_VERSION
    values = {"version": _version_name(words, target)}
    restoring = target == SHIPPED_VERSION
    heading = words.gettext(N_("Restore the original text") if restoring
                            else N_("Roll back to %(version)s"))
    return page(request, "admin_confirm.html", 422 if check else 200, staff=staff, key=key,
                diff=await _diff(admin, key, in_use, target), check=check,
                problems=[shown(p, '', words.gettext) for p in check.problems] if check else [],
                diff_caption=words.gettext("From the version in use to %(version)s") % values,
                heading=heading % values, fields=fields, action=action, edit_url=_edit_url(key),
                explanation=words.gettext(
                    "The bot will send %(version)s again, stored as a new version (the history "
                    "keeps every version). Check what will change:") % values,
                confirm_label=words.gettext(N_("Yes, restore the original text") if restoring
                                            else N_("Yes, roll back to %(version)s")) % values)


@router.get("/templates/{locale}/{name}/rollback")
async def confirm_rollback(request: Request, locale: str, name: str, container: ContainerDep,
                           staff: AdminStaffDep, version_id: int, channel: str = "") -> Response:
    key = _key(name, locale, channel)
    return await _rollback_page(request, container, staff, key, version_id)


async def _rollback_page(request: Request, container: Any, staff: StaffIdentity, key: TemplateKey,
                         version_id: int, check: TemplateCheck | None = None) -> Response:
    chosen = [v for v in await container.template_admin.versions(key) if v.id == version_id]
    if not chosen:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("no such version of this template"))
    return await _confirm_page(request, staff, key, target=chosen[0].version, check=check,
                               action=f"/admin/templates/{key.locale}/{key.name}/rollback",
                               fields={"version_id": str(version_id)}, admin=container.template_admin)


@router.post("/templates/{locale}/{name}/rollback")
async def rollback_template(request: Request, locale: str, name: str, container: ContainerDep,
                            staff: AdminCsrfDep, version_id: Annotated[int, Form()],
                            channel: Annotated[str, Form()] = "",
                            confirm: Annotated[str, Form()] = "") -> Response:
    """Without ``confirm=yes`` (a form posted from elsewhere): the confirmation page."""
    key = _key(name, locale, channel)
    if confirm != "yes":
        return await _rollback_page(request, container, staff, key, version_id)
    try:
        check, version = await container.template_admin.rollback(staff, key, version_id)
    except TemplateAdminError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("no such version of this template")) from exc
    if version is None:
        return await _rollback_page(request, container, staff, key, version_id, check)
    restored = locale_of(request).gettext("Restored as version %(version)s.") % {"version": version}
    return RedirectResponse(_edit_url(key, msg=restored), status.HTTP_303_SEE_OTHER)


async def _restore_page(request: Request, container: Any, staff: StaffIdentity, key: TemplateKey,
                        check: TemplateCheck | None = None) -> Response:
    admin = container.template_admin
    await _check_restorable(admin, key)
    return await _confirm_page(request, staff, key, target=SHIPPED_VERSION, check=check, fields={},
                               action=f"/admin/templates/{key.locale}/{key.name}/restore", admin=admin)


async def _check_restorable(admin: Any, key: TemplateKey) -> None:
    if admin.shipped(key) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("this template has no original text"))
    if not await admin.versions(key):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            N_("the original text is already in use"))


@router.get("/templates/{locale}/{name}/restore")
async def confirm_restore(request: Request, locale: str, name: str, container: ContainerDep,
                          staff: AdminStaffDep, channel: str = "") -> Response:
    return await _restore_page(request, container, staff, _key(name, locale, channel))


@router.post("/templates/{locale}/{name}/restore")
async def restore_template(request: Request, locale: str, name: str, container: ContainerDep,
                           staff: AdminCsrfDep, channel: Annotated[str, Form()] = "",
                           confirm: Annotated[str, Form()] = "") -> Response:
    """Store the shipped text as a new version (after the confirmation page)."""
    key = _key(name, locale, channel)
    if confirm != "yes":
        return await _restore_page(request, container, staff, key)
    await _check_restorable(container.template_admin, key)
    check, version = await container.template_admin.restore_shipped(staff, key)
    if version is None:
        return await _restore_page(request, container, staff, key, check)
    restored = locale_of(request).gettext(
        "The original text is in use again, stored as version %(version)s.") % {"version": version}
    return RedirectResponse(_edit_url(key, msg=restored), status.HTTP_303_SEE_OTHER)


class PreviewIn(BaseModel):
    name: str
    locale: str
    channel: str = ""
    source: str = Field(default="", max_length=20_000)
    content_sid: str = ""


@router.post("/templates/preview")
async def preview(request: Request, body: PreviewIn, container: ContainerDep,
                  staff: AdminCsrfDep) -> JSONResponse:
    """The preview with sample data; problems in English (``message``) and in the reader's
    language (``text``), with the line they are on when known."""
    key = _key(body.name, body.locale, body.channel)
    check = container.template_admin.check(key, body.source, body.content_sid or None)
    gettext = locale_of(request).gettext
    problems = [{"code": p.code, "message": p.message, **asdict(shown(p, body.source, gettext))}
                for p in check.problems]
    return JSONResponse({"ok": check.ok, "preview": check.preview, "problems": problems,
                         "warnings": [{"code": w.code, "message": w.message, "text": explain(w, gettext)}
                                      for w in check.warnings]},
                        headers=SECURITY_HEADERS)


@router.get("/policies")
async def policies(request: Request, container: ContainerDep, staff: AdminStaffDep) -> Response:
    words = locale_of(request)
    summaries = [summarize(cid, policy, words) for cid, policy in sorted(container.policies.items())]
    return page(request, "admin_policies.html", staff=staff, summaries=summaries,
                report=container.template_admin.policy_report())
