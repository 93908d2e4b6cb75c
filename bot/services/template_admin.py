"""Message templates edited in the browser: versions in the database, checked before saving.

The newest stored version of a (name, locale, channel) is what the bot renders, at once in
this process (``TemplateRenderer.set_stored``) and within ``REFRESH_SECONDS`` in the
others (``refresh_loop``). Without a stored version the file under ``templates/`` is used.
A rollback stores the chosen old version again as the newest one, so history only grows;
restoring the shipped text stores the file's text as a new version (``restored_from`` 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.channels.sms import count_segments, for_sms
from bot.clock import Clock
from bot.policies import PolicyBook, PolicyError, load_policies
from bot.rendering.renderer import SUPPORTED_LOCALES, TemplateRenderer
from bot.rendering.template_rules import (
    CHANNELS,
    TemplateCheck,
    channels_of,
    check_template,
    documented_variables,
    policy_rules,
)
from bot.services.audit_kinds import AuditKind
from bot.services.staff_accounts import StaffIdentity
from bot.storage.repositories.errors import VersionTaken
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)
REFRESH_SECONDS = 2.0
TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
SAVE_ATTEMPTS = 10  # concurrent saves of one template each get the next number
SHIPPED_VERSION = 0  # the text of templates/<locale>/<name>.j2, as "version 0"


class TemplateAdminError(ValueError):
    """A request the admin cannot satisfy (unknown template, bad name, locale, channel)."""


@dataclass(frozen=True)
class TemplateKey:
    name: str
    locale: str
    channel: str = ""

    def validate(self) -> TemplateKey:
        if not TEMPLATE_NAME.match(self.name):
            raise TemplateAdminError("a template name is 1-64 characters: a-z, 0-9 and _")
        if self.locale not in SUPPORTED_LOCALES:
            raise TemplateAdminError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        if self.channel and self.channel not in CHANNELS:
            raise TemplateAdminError(f"channel must be empty (all) or one of {', '.join(CHANNELS)}")
        return self


@dataclass(frozen=True)
class VersionInfo:
    id: int
    version: int
    author: str
    at: datetime
    source: str
    content_sid: str | None
    restored_from: int | None


@dataclass(frozen=True)
class TemplateEntry:
    key: TemplateKey
    version: int | None  # None: the file is in use
    author: str | None
    at: datetime | None


@dataclass(frozen=True)
class PolicyReport:
    ok: bool
    lines: list[str]
    files: dict[str, str]


class TemplateAdmin:
    def __init__(self, uow: UnitOfWorkFactory, renderer: TemplateRenderer,
                 policies: PolicyBook, clock: Clock, policies_dir: Path,
                 sms_max_segments: int = 3) -> None:
        self._uow = uow
        self._sms_max_segments = sms_max_segments
        self._renderer = renderer
        self._policies = policies
        self._clock = clock
        self._policies_dir = Path(policies_dir)
        self._seen = -1

    # -- the bot's view -----------------------------------------------------------------------

    async def load_into_renderer(self) -> None:
        """Give the renderer the newest stored version of every template."""
        async with self._uow() as uow:
            newest = await uow.template_versions.newest_id()
            rows = await uow.template_versions.latest()
            self._renderer.use_stored({(r.locale, r.name, r.channel): r.source for r in rows})
            self._seen = newest

    async def refresh_loop(self, interval: float = REFRESH_SECONDS) -> None:
        """Pick up versions saved by other processes (runs until cancelled)."""
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                async with self._uow() as uow:
                    newest = await uow.template_versions.newest_id()
                if newest != self._seen:
                    await self.load_into_renderer()

    # -- reading ------------------------------------------------------------------------------

    async def overview(self) -> list[TemplateEntry]:
        names = self._renderer.file_names()
        entries: dict[TemplateKey, TemplateEntry] = {
            TemplateKey(name, locale): TemplateEntry(TemplateKey(name, locale), None, None, None)
            for locale, found in names.items() for name in found}
        async with self._uow() as uow:
            for row in await uow.template_versions.all():
                key = TemplateKey(row.name, row.locale, row.channel)
                entries[key] = TemplateEntry(key, row.version, row.author, row.created_at)
        return sorted(entries.values(), key=lambda e: (e.key.name, e.key.locale, e.key.channel))

    async def versions(self, key: TemplateKey) -> list[VersionInfo]:
        key.validate()
        async with self._uow() as uow:
            rows = await uow.template_versions.versions_of(key.name, key.locale, key.channel)
            return [VersionInfo(r.id, r.version, r.author, r.created_at, r.source, r.content_sid,
                                r.restored_from) for r in rows]

    async def current(self, key: TemplateKey) -> tuple[str, str | None, int | None]:
        """(source, content SID, version) in use; version ``None`` means the file."""
        versions = await self.versions(key)
        if versions:
            return versions[0].source, versions[0].content_sid, versions[0].version
        if key.channel:  # a new channel variant starts from the version for every channel
            source, _, _ = await self.current(TemplateKey(key.name, key.locale))
            return source, None, None
        return self._renderer.file_source(key.name, key.locale) or "", None, None

    def shipped(self, key: TemplateKey) -> str | None:
        """The text shipped in ``templates/<locale>/<name>.j2`` (version 0), if there is one."""
        return self._renderer.file_source(key.name, key.locale)

    async def source_at(self, key: TemplateKey, number: int) -> str:
        """The source of version ``number`` (0: the shipped text)."""
        if number == SHIPPED_VERSION:
            shipped = self.shipped(key)
            if shipped is None:
                raise TemplateAdminError("this template has no shipped text")
            return shipped
        for version in await self.versions(key):
            if version.version == number:
                return version.source
        raise TemplateAdminError(f"no version {number} of this template")

    def variables(self, key: TemplateKey) -> list[str]:
        return sorted(documented_variables(key.name))

    # -- checking and saving --------------------------------------------------------------------

    def check(self, key: TemplateKey, source: str, content_sid: str | None = None) -> TemplateCheck:
        key.validate()
        rules, cadence, creditors = policy_rules(self._policies)
        result = check_template(source, name=key.name, locale=key.locale, channel=key.channel,
                                rules=rules, cadence_templates=cadence, creditor_names=creditors,
                                today=self._clock.now().date())
        if content_sid and not CONTENT_SID.match(content_sid):
            result.add("content_sid", "a Twilio Content SID looks like HX followed by 32 hex digits")
        if key.channel == "whatsapp" and key.name in cadence and not content_sid:
            result.add("content_sid", "a WhatsApp template the bot sends first needs the Content "
                                      "SID of its approved WhatsApp template")
        self._warn_sms_length(key, result)
        return result

    def _warn_sms_length(self, key: TemplateKey, result: TemplateCheck) -> None:
        """An SMS longer than the channel sends is cut with "…" (ACORDO_SMS_MAX_SEGMENTS)."""
        if key.channel not in ("", "sms") or "sms" not in channels_of(key.name) or not result.preview:
            return
        count = count_segments(for_sms(result.preview))  # as the SMS channel sends it
        if count.segments > self._sms_max_segments:
            result.warn("sms_segments", f"{count.segments} SMS segments ({count.encoding}) with "
                        f"sample data; SMS sends {self._sms_max_segments} and cuts the rest")

    async def save(self, staff: StaffIdentity, key: TemplateKey, source: str,
                   content_sid: str | None = None, restored_from: int | None = None
                   ) -> tuple[TemplateCheck, int | None]:
        """Check and store a new version; (check, new version number or ``None`` if refused)."""
        source = source.replace("\r\n", "\n")
        content_sid = (content_sid or "").strip() or None
        result = self.check(key, source, content_sid)
        if not result.ok:
            async with self._uow() as uow:
                await uow.audit.record(AuditKind.TEMPLATE_REFUSED, staff.actor, data={
                    "name": key.name, "locale": key.locale, "channel": key.channel,
                    "problems": [p.code for p in result.problems]})
                await uow.commit()
            return result, None
        for attempt in range(SAVE_ATTEMPTS):
            try:
                version = await self._store(staff, key, source, content_sid, restored_from)
                break
            except VersionTaken:  # two admins saved at once: take the next number
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        self._renderer.set_stored(key.name, key.locale, source, key.channel)
        return result, version

    async def _store(self, staff: StaffIdentity, key: TemplateKey, source: str,
                     content_sid: str | None, restored_from: int | None) -> int:
        """One transaction: the next version and its audit event."""
        async with self._uow() as uow:
            row = await uow.template_versions.add(
                key.name, key.locale, key.channel, source, content_sid=content_sid,
                author=staff.name, restored_from=restored_from, at=self._clock.now())
            kind = (AuditKind.TEMPLATE_SAVED if restored_from is None
                    else AuditKind.TEMPLATE_ROLLED_BACK)
            await uow.audit.record(kind, staff.actor, data={
                "name": key.name, "locale": key.locale, "channel": key.channel,
                "version": row.version, "restored_from": restored_from})
            await uow.commit()
            return row.version

    async def rollback(self, staff: StaffIdentity, key: TemplateKey, version_id: int
                       ) -> tuple[TemplateCheck, int | None]:
        """Store version ``version_id`` again as the newest (checked like any save)."""
        async with self._uow() as uow:
            row = await uow.template_versions.get(version_id)
        if row is None or (row.name, row.locale, row.channel) != (key.name, key.locale, key.channel):
            raise TemplateAdminError(f"no version #{version_id} of this template")
        return await self.save(staff, key, row.source, row.content_sid, restored_from=row.version)

    async def restore_shipped(self, staff: StaffIdentity, key: TemplateKey
                              ) -> tuple[TemplateCheck, int | None]:
        """Store the shipped text again as the newest version (``restored_from`` 0), checked like
        any save; a stored history is kept, never deleted."""
        shipped = self.shipped(key)
        if shipped is None:
            raise TemplateAdminError("this template has no shipped text")
        versions = await self.versions(key)
        if not versions:
            raise TemplateAdminError("the shipped text is already in use")
        return await self.save(staff, key, shipped, versions[0].content_sid,
                               restored_from=SHIPPED_VERSION)

    # -- policies (read-only) -------------------------------------------------------------------

    def policy_report(self) -> PolicyReport:
        """What ``acordo policies check`` says about the policy folder, and the files."""
        files = {p.name: p.read_text(encoding="utf-8")
                 for p in sorted(self._policies_dir.glob("*.y*ml"))}
        try:
            book = load_policies(self._policies_dir)
        except PolicyError as exc:
            return PolicyReport(False, [str(problem) for problem in exc.problems], files)
        lines = [f"{cid}: ok ({p.creditor.name}, {len(p.segments)} segments)" for cid, p in book.items()]
        return PolicyReport(True, lines, files)
