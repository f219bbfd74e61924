"""The HTTP(S) server under the dashboard: cheroot, CherryPy's server.

Why cheroot: pure Python and well kept, a bounded thread pool, and TLS through the
standard library's ssl module (waitress, which served the dashboard before, has no TLS
and asks for a proxy in front; a Pi in a home should not need one).
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheroot import wsgi

THREADS = 4


@dataclass(frozen=True, slots=True)
class TlsFiles:
    certificate: Path
    key: Path


class WebServer:
    """A WSGI app bound to host:port (port 0: any free one) and served until close()."""

    def __init__(self, app: Any, host: str, port: int, tls: TlsFiles | None = None) -> None:
        self.server = wsgi.Server((host, port), app, numthreads=THREADS, server_name="HomeGuard")
        if tls is not None:
            from cheroot.ssl.builtin import BuiltinSSLAdapter

            adapter = BuiltinSSLAdapter(str(tls.certificate), str(tls.key))
            adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
            self.server.ssl_adapter = adapter
        self.server.prepare()  # binds now: a taken address is an OSError here, not in a thread
        self.tls = tls is not None
        self.host = host
        self.port = int(self.server.bind_addr[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    def start(self) -> None:
        threading.Thread(target=self.server.serve, name="homeguard-web", daemon=True).start()

    def serve(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self.server.serve()
        finally:
            self.server.stop()

    def close(self) -> None:
        self.server.stop()
