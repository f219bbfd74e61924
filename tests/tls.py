"""Certificates for tests, made by the openssl command: a CA, and a server certificate it
signs for 127.0.0.1; and a static HTTPS server on loopback that uses them."""

from __future__ import annotations

import contextlib
import functools
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class TestPki:
    ca: Path
    certificate: Path
    key: Path


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_pki(folder: Path) -> TestPki:
    """A CA valid for two days, and a certificate it signed for 127.0.0.1."""
    ca, ca_key = folder / "ca.pem", folder / "ca-key.pem"
    openssl("req", "-x509", *EC, "-subj", "/CN=HomeGuard test CA", "-days", "2", "-keyout", str(ca_key),
            "-out", str(ca), "-addext", "basicConstraints=critical,CA:TRUE")  # fmt: skip
    key, request = folder / "server-key.pem", folder / "server.csr"
    openssl("req", *EC, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request))
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    certificate = folder / "server.pem"
    openssl("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-days", "2", "-extfile", str(folder / "san.ext"), "-out", str(certificate))  # fmt: skip
    return TestPki(ca, certificate, key)


@contextlib.contextmanager
def https_server(directory: Path, pki: TestPki) -> Iterator[str]:
    """Serves `directory` over HTTPS on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.certificate, pki.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass
