"""A real IMAP server for the tests: Debian's Dovecot, started on a free port in a folder of
its own (plain IMAP on 127.0.0.1, one mailbox user with a password, Maildir storage).

``DovecotServer.start()`` writes the configuration and runs ``dovecot -F``; ``append(raw)``
delivers a message to the INBOX over IMAP (as a mail server would), ``seen()`` lists the
UIDs marked ``\\Seen``. When run as root (CI), the mail processes run as ``nobody``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import aioimaplib

from tests.support.requirements import browser_env

DOVECOT = "/usr/sbin/dovecot"
USER = "cobranca@exemplo.com.br"
PASSWORD = "imap-test-password"


def dovecot_path() -> str | None:
    found = shutil.which("dovecot") or (DOVECOT if Path(DOVECOT).is_file() else None)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(folder: Path, port: int, uid: int, gid: int) -> str:
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
mail_location = maildir:{folder}/home/%n/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class DovecotServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="acordo-imap-"))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> DovecotServer:
        binary = dovecot_path()
        assert binary is not None
        root = os.getuid() == 0
        uid, gid = (65534, 65534) if root else (os.getuid(), os.getgid())
        for name in ("run", "state", "home"):
            (self.folder / name).mkdir(mode=0o755)
        os.chmod(self.folder, 0o755)
        if root:
            os.chown(self.folder / "home", uid, gid)
        (self.folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        conf = self.folder / "dovecot.conf"
        conf.write_text(_config(self.folder, self.port, uid, gid))
        # The mail server stands for the creditor's provider, with a clock of its own: it runs
        # without libfaketime (``make test-anytime``), like the browser.
        self._process = subprocess.Popen([binary, "-F", "-c", str(conf)], env=browser_env(),
                                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    async def _client(self) -> aioimaplib.IMAP4:
        client = aioimaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        await client.wait_hello_from_server()
        await client.login(USER, PASSWORD)
        return client

    async def append(self, raw: str | bytes) -> None:
        data = raw.encode() if isinstance(raw, str) else raw
        client = await self._client()
        try:
            response = await client.append(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                                           mailbox="INBOX")
            assert response.result == "OK", response
        finally:
            await client.logout()

    async def seen(self) -> list[int]:
        client = await self._client()
        try:
            await client.select("INBOX")
            found = await client.uid_search("SEEN")
            return [int(uid) for uid in found.lines[0].split() if uid.isdigit()]
        finally:
            await client.logout()


async def wait_for(condition: object, seconds: float = 10.0) -> None:
    """Poll an async ``condition()`` until it is true (bounded)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
