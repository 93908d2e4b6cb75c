"""A throw-away PKI for mutual TLS in tests and benches: a CA, a server and a client certificate.

Made with the ``openssl`` command (the ``cryptography`` package is not a dependency). The
server certificate names ``localhost`` and ``127.0.0.1``; every file is PEM.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PKIFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_client_cert: Path  # signed by another CA: the PSP refuses it
    other_client_key: Path

    def server_context(self) -> ssl.SSLContext:
        """TLS for the PSP: its certificate, and a client certificate from the CA required."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca))
        context.load_cert_chain(self.server_cert, self.server_key)
        context.verify_mode = ssl.CERT_REQUIRED
        return context


def _run(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert, key


def _leaf(directory: Path, name: str, ca: tuple[Path, Path], extensions: str) -> tuple[Path, Path]:
    key, csr, cert = directory / f"{name}.key", directory / f"{name}.csr", directory / f"{name}.pem"
    ext = directory / f"{name}.ext"
    ext.write_text(extensions)
    _run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
         "-subj", f"/CN={name}")
    _run("x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
         "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return cert, key


def make_test_pki(directory: Path) -> PKIFiles:
    """Create the CA and certificates in ``directory`` (about a second of CPU)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed to make test certificates")
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "test-psp-ca")
    other = _ca(directory, "stranger-ca")
    server = _leaf(directory, "psp", ca, "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                   "extendedKeyUsage=serverAuth\n")
    client = _leaf(directory, "acordo", ca, "extendedKeyUsage=clientAuth\n")
    stranger = _leaf(directory, "stranger", other, "extendedKeyUsage=clientAuth\n")
    return PKIFiles(ca[0], server[0], server[1], client[0], client[1], stranger[0], stranger[1])
