"""Real receivers on loopback for alert tests: a JSON webhook and an SMTP server."""

from __future__ import annotations

import email
import json
import socket
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Webhook:
    """Collects what apprise's json:// posts. Start and stop it at will: while stopped,
    its port refuses connections, as a service that is down does."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[dict[str, Any]] = []
        self.auth: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> Webhook:
        received, auth = self.received, self.auth

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                auth.append(self.headers.get("Authorization", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Mailbox:
    """An SMTP server (aiosmtpd) that keeps every message it is given."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        messages = self.messages

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self.port}?from=homeguard@home.example&to=anna@home.example"

    def start(self) -> Mailbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    @staticmethod
    def parts(message: Message) -> dict[str, str]:
        """content type -> decoded text of each part."""
        out = {}
        for part in message.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True)
                out[part.get_content_type()] = payload.decode() if isinstance(payload, bytes) else ""
        return out


def serve_webhook(port: int, out: str) -> None:
    """Run a webhook that appends each JSON body it receives to `out`, one per line
    (for the namespace lab, where the daemon's loopback is the namespace's own)."""
    import time

    hook = Webhook(port).start()
    print(f"webhook listening on {port}", flush=True)
    written = 0
    try:
        while True:
            while written < len(hook.received):
                with open(out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(hook.received[written]) + "\n")
                written += 1
            time.sleep(0.1)
    finally:
        hook.stop()


if __name__ == "__main__":
    import sys

    serve_webhook(int(sys.argv[1]), sys.argv[2])
