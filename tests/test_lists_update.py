"""`homeguard lists update` against a real HTTPS server on loopback: good lists are
swapped in and used by the rules; broken, empty or cut-short downloads keep the last
good copy; plain HTTP is refused."""

from __future__ import annotations

import http.server
import json
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from scapy.all import wrpcap

from tests.conftest import homeguard
from tests.household import LAPTOP, lookup

HOSTFILE = b"# URLhaus hostfile\n127.0.0.1\tmalware-drop.example\n127.0.0.1\tphish.example\n"
DROP = b"; Spamhaus DROP List\n203.0.113.0/24 ; SBL000001\n198.51.100.0/25 ; SBL000002\n"


class ListServer:
    """Serves `pages` (path -> (status, body)); tests change them between updates."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.pages: dict[str, tuple[int, bytes]] = {}
        pages = self.pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = pages.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[ListServer, dict[str, str]]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    srv = ListServer(cert, key)
    srv.pages.update({"/hostfile": (200, HOSTFILE), "/drop.txt": (200, DROP)})
    yield srv, {**os.environ, "SSL_CERT_FILE": str(cert)}  # trust the test certificate only
    srv.httpd.shutdown()


def write_config(tmp_path: Path, srv: ListServer) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"db_path: {tmp_path / 'state' / 'homeguard.db'}\n"
        f"rules_dir: {tmp_path / 'rules.d'}\n"
        f"threat_lists: [{srv.url}/hostfile, {srv.url}/drop.txt]\n"
    )
    return config


def entries(text: str) -> list[str]:
    return [line for line in text.splitlines() if not line.startswith("#")]


def update(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return homeguard("lists", "update", "--config", str(config), check=False, env=env)


def test_downloaded_lists_are_merged_and_used_by_the_rules(
    tmp_path: Path, server: tuple[ListServer, dict[str, str]]
) -> None:
    srv, env = server
    config = write_config(tmp_path, srv)
    done = update(config, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        f"ok    threats: {srv.url}/hostfile: 2 entries",
        f"ok    threats: {srv.url}/drop.txt: 2 entries",
    ]
    threats = (tmp_path / "state" / "lists" / "threats.txt").read_text().splitlines()
    assert [line for line in threats if not line.startswith("#")] == [
        "malware-drop.example",
        "phish.example",
        "203.0.113.0/24",
        "198.51.100.0/25",
    ]
    capture = tmp_path / "lookup.pcap"
    wrpcap(str(capture), lookup(LAPTOP, "cdn.malware-drop.example", "192.0.2.9"))
    homeguard(
        "replay", str(capture), "--db", str(tmp_path / "state" / "homeguard.db"), "--config", str(config)
    )
    rows = json.loads(
        homeguard("findings", "--db", str(tmp_path / "state" / "homeguard.db"), "--json").stdout
    )
    assert [(r["rule"], r["device_mac"]) for r in rows] == [("known-bad-name", LAPTOP[0])]


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (503, b"try later", "download failed: HTTP Error 503"),
        (200, b"<html><body>Rate limited</body></html>", "no usable entries (empty or not a list)"),
        (200, b"", "no usable entries (empty or not a list)"),
    ],
)
def test_a_broken_download_keeps_the_last_good_copy(
    tmp_path: Path, server: tuple[ListServer, dict[str, str]], status: int, body: bytes, reason: str
) -> None:
    srv, env = server
    config = write_config(tmp_path, srv)
    assert update(config, env).returncode == 0
    threats = tmp_path / "state" / "lists" / "threats.txt"
    good = threats.read_text()
    srv.pages["/hostfile"] = (status, body)
    done = update(config, env)
    assert done.returncode == 1
    assert f"FAIL  threats: {srv.url}/hostfile: {reason}" in done.stdout
    assert "keeping the last good copy (2 entries)" in done.stdout
    assert entries(threats.read_text()) == entries(good)
    leftovers = [p.name for p in (tmp_path / "state" / "lists").rglob(".*.tmp")]
    assert leftovers == []


def test_a_cut_short_download_is_refused(tmp_path: Path, server: tuple[ListServer, dict[str, str]]) -> None:
    srv, env = server
    big = b"".join(b"0.0.0.0 host%d.example\n" % i for i in range(500))
    srv.pages["/hostfile"] = (200, big)
    config = write_config(tmp_path, srv)
    assert update(config, env).returncode == 0
    srv.pages["/hostfile"] = (200, big[:400])  # the connection dropped after 20 lines
    done = update(config, env)
    assert "where the last copy had 500: probably cut short" in done.stdout
    kept = (tmp_path / "state" / "lists" / "threats.txt").read_text()
    assert "host499.example" in kept


def test_a_plain_http_url_is_an_error_naming_the_config_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("log_level: info\nthreat_lists: [http://lists.example/drop.txt]\n")
    done = homeguard("lists", "update", "--config", str(config), check=False)
    assert done.returncode != 0
    assert f"{config}:2: 'http://lists.example/drop.txt' must be an https:// URL" in done.stderr


def test_an_untrusted_certificate_is_refused(
    tmp_path: Path, server: tuple[ListServer, dict[str, str]]
) -> None:
    srv, _env = server
    config = write_config(tmp_path, srv)
    done = update(config, {k: v for k, v in os.environ.items() if k != "SSL_CERT_FILE"})
    assert done.returncode == 1
    assert "CERTIFICATE_VERIFY_FAILED" in done.stdout


def test_the_address_owners_table_is_fetched_only_when_asked_and_names_unnamed_flows(
    tmp_path: Path, server: tuple[ListServer, dict[str, str]]
) -> None:
    import gzip

    srv, env = server
    table = b"8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE\n1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n<html>\n"
    srv.pages["/ip2asn.tsv.gz"] = (200, gzip.compress(table))
    config = write_config(tmp_path, srv)
    owners = tmp_path / "state" / "lists" / "address-owners.tsv"
    assert update(config, env).returncode == 0 and not owners.exists()  # not configured: not fetched
    config.write_text(config.read_text() + f"address_owners_url: {srv.url}/ip2asn.tsv.gz\n")
    done = update(config, env)
    assert f"ok    address-owners: {srv.url}/ip2asn.tsv.gz: 2 entries" in done.stdout
    assert owners.read_text().splitlines() == [
        "8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE",
        "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET",
    ]
    srv.pages["/ip2asn.tsv.gz"] = (200, b"<html>rate limited</html>")
    done = update(config, env)
    assert "FAIL  address-owners" in done.stdout and "no address ranges" in done.stdout
    assert len(owners.read_text().splitlines()) == 2  # the last good copy stays
