"""Servers for the namespace lab: aiosmtpd for SMTP with AUTH, and small servers that
speak just enough POP3, IMAP and telnet-style login for real clients (curl, busybox
telnet) to log in. Run as: python tests/lab_servers.py KIND ADDRESS PORT"""

from __future__ import annotations

import socketserver
import sys


class LineHandler(socketserver.StreamRequestHandler):
    greeting = b""

    def send(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        if self.greeting:
            self.wfile.write(self.greeting)
        for raw in self.rfile:
            if not self.answer(raw.decode("utf-8", "replace").strip()):
                return

    def answer(self, line: str) -> bool:
        raise NotImplementedError


class Pop3(LineHandler):
    greeting = b"+OK lab POP3 ready\r\n"

    def answer(self, line: str) -> bool:
        command = line.split(" ", 1)[0].upper()
        if command == "CAPA":
            self.send("+OK\r\nUSER\r\n.")
        elif command in ("LIST", "UIDL"):
            self.send("+OK\r\n.")
        elif command == "STAT":
            self.send("+OK 0 0")
        else:
            self.send("+OK")
        return command != "QUIT"


class Imap(LineHandler):
    greeting = b"* OK lab IMAP4rev1 ready\r\n"

    def answer(self, line: str) -> bool:
        tag, _, rest = line.partition(" ")
        command = rest.split(" ", 1)[0].upper()
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
        elif command == "LOGOUT":
            self.send("* BYE")
        self.send(f"{tag} OK done")
        return command != "LOGOUT"


class TelnetLogin(socketserver.StreamRequestHandler):
    """A device's telnet login: the prompts, then a shell prompt."""

    def typed_line(self) -> bytes:
        """What the user typed up to Enter, without telnet option negotiation."""
        typed = b""
        while True:
            byte = self.rfile.read(1)
            if not byte:
                return typed
            if byte == b"\xff":  # IAC: skip the command and its option
                self.rfile.read(2)
            elif byte in b"\r\n\x00":
                if typed:
                    return typed
            else:
                typed += byte

    def handle(self) -> None:
        self.wfile.write(b"\xff\xfb\x01lab-camera login: ")
        self.typed_line()
        self.wfile.write(b"\r\nPassword: ")
        self.typed_line()
        self.wfile.write(b"\r\nWelcome\r\n# ")


SERVERS = {"pop3": Pop3, "imap": Imap, "telnet": TelnetLogin}


def smtp(address: str, port: int) -> None:
    """aiosmtpd, a real SMTP server, accepting any login without TLS (as old devices do)."""
    import threading

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Accept:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    controller = Controller(
        Accept(),
        hostname=address,
        port=port,
        auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=True),
    )
    controller.start()
    print(f"serving smtp on {address}:{port}", flush=True)
    threading.Event().wait()


def main() -> None:
    kind, address, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "smtp":
        smtp(address, port)
        return
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    with socketserver.ThreadingTCPServer((address, port), SERVERS[kind]) as server:
        print(f"serving {kind} on {address}:{port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
