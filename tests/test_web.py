"""The dashboard over plain HTTP, served for real by cheroot on loopback: logins and how
they are slowed, sessions, CSRF, the security headers, where it may listen, and the
changes a household makes (a name for a device, an acknowledged finding, a mute)."""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlite_utils import Database

from homeguard.clock import ManualClock
from homeguard.errors import ConfigError
from homeguard.settings import Config, load_config
from homeguard.store.web import set_user
from homeguard.web.app import create_app
from homeguard.web.security import check_listen, hash_password
from homeguard.web.server import WebServer
from tests.conftest import homeguard
from tests.receivers import Webhook
from tests.test_report import TS0, TV, replay_household

PASSWORD = "correct horse battery"


@dataclass
class Site:
    url: str
    db: Path
    clock: ManualClock


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    db, config_path = replay_household(tmp_path)
    config = load_config(str(config_path), {"db_path": str(db)})
    with serving(db, config, ManualClock(TS0 + 3600)) as served:
        yield served


@contextlib.contextmanager
def serving(db: Path, config: Config, clock: ManualClock) -> Iterator[Site]:
    """The dashboard on a database, served by cheroot on loopback, with an admin and a viewer."""
    set_user(Database(db), "admin", "admin", hash_password(PASSWORD), clock.time())
    set_user(Database(db), "kid", "viewer", hash_password(PASSWORD + "!"), clock.time())
    server = WebServer(create_app(config, db, clock), "127.0.0.1", 0)
    server.start()
    try:
        yield Site(server.url.rstrip("/"), db, clock)
    finally:
        server.close()


class Browser:
    """A client with cookies that does not follow redirects (so that tests see them)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
        return self._open(urllib.request.Request(self.site.url + path, headers=headers))

    def post(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode(form).encode()
        return self._open(urllib.request.Request(self.site.url + path, data=data, method="POST"))

    def _open(self, request: urllib.request.Request) -> tuple[int, dict[str, str], str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(path)[2])
        assert found is not None, f"no form on {path}"
        return found.group(1)

    def log_in(self, user: str = "admin", password: str = PASSWORD) -> int:
        return self.post("/login", {"csrf": self.csrf("/login"), "user": user, "password": password})[0]


def test_every_page_needs_a_login_and_a_login_opens_them(site: Site) -> None:
    browser = Browser(site)
    for path in ("/", "/devices", "/findings", "/report", f"/devices/{TV[0]}"):
        status, headers, _ = browser.get(path)
        assert status == 302 and headers["Location"].endswith("/login"), path
    assert browser.log_in(password="wrong password") == 401
    assert browser.log_in() == 302
    status, _, page = browser.get("/devices")
    assert status == 200 and "LG Electronics" in page
    cookie = next(c for c in browser.jar if c.name == "homeguard_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    stored = Database(site.db).execute("SELECT token_hash FROM web_sessions").fetchall()
    assert cookie.value not in {t for (t,) in stored}  # only its hash is kept


def test_a_post_without_its_csrf_token_is_refused(site: Site) -> None:
    browser = Browser(site)
    browser.log_in()
    status, _, _ = browser.post(f"/devices/{TV[0]}", {"name": "Living room TV"})
    assert status == 403
    status, _, _ = browser.post(f"/devices/{TV[0]}", {"name": "Living room TV", "csrf": "forged"})
    assert status == 403
    assert Database(site.db).execute("SELECT count(*) FROM device_notes").fetchone()[0] == 0
    assert browser.post("/login", {"user": "admin", "password": PASSWORD})[0] == 403  # the login form too


def test_security_headers_on_every_answer(site: Site) -> None:
    browser = Browser(site)
    for path in ("/login", "/", "/static/style.css", "/no-such-page"):
        _status, headers, _ = browser.get(path)
        policy = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy, path
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


def test_failed_logins_are_slowed_down(site: Site) -> None:
    browser = Browser(site)
    statuses = [browser.log_in(password=f"guess {n}") for n in range(5)]
    assert statuses[:3] == [401, 401, 401] and 429 in statuses[3:]
    assert browser.log_in() == 429  # even the right password waits its turn
    site.clock.advance(120)
    assert browser.log_in() == 302


def test_a_name_an_acknowledgement_and_a_mute(site: Site) -> None:
    browser = Browser(site)
    browser.log_in()
    csrf = browser.csrf(f"/devices/{TV[0]}")
    status, _headers, _ = browser.post(
        f"/devices/{TV[0]}", {"name": "Living room TV", "known": "on", "csrf": csrf}
    )
    assert status == 302
    assert "Living room TV" in browser.get("/devices")[2]
    findings = browser.get("/findings")[2]
    assert "Device: Living room TV" in findings  # the new name, in the findings too
    finding_id = re.search(r"/findings/(\d+)/acknowledge", findings)
    assert finding_id is not None
    assert browser.post(f"/findings/{finding_id.group(1)}/acknowledge", {"csrf": csrf})[0] == 302
    row = Database(site.db).execute(
        "SELECT acknowledged FROM findings WHERE rowid = ?", [finding_id.group(1)]
    )
    assert row.fetchone()[0] == site.clock.time()
    assert (
        browser.post("/mute", {"csrf": csrf, "kind": "rule", "value": "new-company", "for": "week"})[0] == 302
    )
    mutes = Database(site.db).execute("SELECT kind, value, until FROM mutes").fetchall()
    assert mutes == [("rule", "new-company", site.clock.time() + 7 * 86400)]


def test_a_viewer_can_look_but_not_change(site: Site) -> None:
    browser = Browser(site)
    assert browser.log_in("kid", PASSWORD + "!") == 302
    page = browser.get(f"/devices/{TV[0]}")[2]
    assert "You can look, not change" in page and 'name="name"' not in page
    csrf = browser.csrf("/findings")  # the log-out form
    assert browser.post(f"/devices/{TV[0]}", {"name": "mine now", "csrf": csrf})[0] == 403


def test_dutch_follows_the_browser_until_chosen(site: Site) -> None:
    browser = Browser(site)
    assert "Inloggen" in browser.get("/login", **{"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"})[2]
    assert "Log in" in browser.get("/login", **{"Accept-Language": "de, en;q=0.8"})[2]


def test_it_listens_on_the_lan_only_unless_told(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "192.168.1.10", "10.0.0.2", "fe80::1", "::1"):
        check_listen(host, anywhere=False)
    for host in ("0.0.0.0", "::", "8.8.8.8", "2001:4860::1"):
        with pytest.raises(ConfigError):
            check_listen(host, anywhere=False)
        check_listen(host, anywhere=True)
    done = homeguard("web", "--listen", "0.0.0.0:8780", "--db", str(tmp_path / "none.db"), check=False)
    assert done.returncode == 1 and "add --any-address if you mean it" in done.stderr


def test_passwords_come_from_standard_input(tmp_path: Path) -> None:
    db = tmp_path / "hg.db"
    short = homeguard("web", "--db", str(db), "passwd", input="short\n", check=False)
    assert short.returncode == 1 and "10 characters or more" in short.stderr
    homeguard("web", "--db", str(db), "passwd", input=PASSWORD + "\n")
    (stored,) = Database(db).execute("SELECT password FROM web_users WHERE name = 'admin'").fetchone()
    assert stored.startswith("scrypt$") and PASSWORD not in stored


def test_a_webhook_target_added_here_gets_a_test_and_the_daemon_uses_it(site: Site, webhook: Webhook) -> None:
    browser = Browser(site)
    browser.log_in()
    csrf = browser.csrf("/alerts")
    form = {"csrf": csrf, "service": "webhook", "name": "phone", "min_severity": "high"}
    bad = browser.post("/alerts/targets", {**form, "address": "ftp://nowhere"})
    assert bad[0] == 400 and "Webhook: give an address starting with https://" in bad[2]
    address = webhook.url.replace("json://", "http://")
    assert browser.post("/alerts/targets", {**form, "address": address})[0] == 302
    assert "phone" in browser.get("/alerts")[2]
    assert browser.post("/alerts/targets/phone/test", {"csrf": csrf})[0] == 302
    assert [m["title"] for m in webhook.received] == ["HomeGuard test"]
    config = load_config(None, {"db_path": str(site.db)})
    from homeguard.store.web import with_dashboard_changes

    targets = with_dashboard_changes(config, Database(site.db)).values["notify"]
    assert [(t.name, t.url, t.min_severity) for t in targets] == [("phone", webhook.url, "high")]


def test_the_first_password_is_chosen_in_the_browser_with_the_setup_code(tmp_path: Path) -> None:
    from homeguard.store.database import open_database
    from homeguard.store.web import setup_code

    db = tmp_path / "hg.db"
    clock = ManualClock(TS0)
    code = setup_code(open_database(db), clock.time(), "ABCD-EFGH", 86400)
    assert code == "ABCD-EFGH" and setup_code(open_database(db), clock.time(), "OTHER", 86400) == code
    config = load_config(None, {"db_path": str(db), "rules_dir": str(tmp_path / "none")})
    server = WebServer(create_app(config, db, clock), "127.0.0.1", 0)
    server.start()
    try:
        browser = Browser(Site(server.url.rstrip("/"), db, clock))
        assert "First time here?" in browser.get("/login")[2]
        csrf = browser.csrf("/setup")
        form = {"csrf": csrf, "password": PASSWORD, "again": PASSWORD}
        assert browser.post("/setup", {**form, "code": "WXYZ-WXYZ"})[0] == 403
        assert browser.post("/setup", {**form, "code": "abcd-efgh", "again": "different"})[0] == 400
        assert browser.post("/setup", {**form, "code": "abcd-efgh"})[0] == 302
        assert browser.get("/devices")[0] == 200  # logged in
        assert browser.get("/setup")[0] == 302  # the code is used up
        assert Browser(browser.site).log_in() == 302  # and the password works
    finally:
        server.close()


def test_run_serves_the_dashboard_and_logs_the_setup_code(tmp_path: Path) -> None:
    from homeguard.web.serve import listen_address
    from tests.receivers import free_port
    from tests.test_service_lifecycle import daemon_running

    assert listen_address("never", "lo") is None and listen_address("auto", "lo") == ("127.0.0.1", 8780)
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"web_listen: 127.0.0.1:{port}\nrules_dir: {tmp_path / 'none'}\n")
    with daemon_running(tmp_path, config) as (_, log):
        text = log.read_text()
        assert f"dashboard on http://127.0.0.1:{port}/" in text
        code = re.search(r"/setup and enter the setup code ([A-Z0-9]{4}-[A-Z0-9]{4})", text)
        assert code is not None
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/setup", timeout=10) as page:
            assert "Setup code" in page.read().decode()


def test_the_household_changes_its_few_settings_and_sees_all_of_them(site: Site) -> None:
    from homeguard.store.web import with_dashboard_changes

    browser = Browser(site)
    browser.log_in()
    csrf = browser.csrf("/settings")
    form = {"csrf": csrf, "language": "nl", "report_email": "weekly", "learning_days": "3,5"}
    bad = browser.post("/settings", {**form, "quiet_hours": "late"})
    assert bad[0] == 400 and "quiet_hours must look like 22:00-07:00, not &#39;late&#39;" in bad[2]
    bad = browser.post("/settings", {**form, "quiet_hours": "", "learning_days": "a week"})
    assert bad[0] == 400 and "learning_days must be a number, not &#39;a week&#39;" in bad[2]
    assert browser.post("/settings", {**form, "quiet_hours": "22:30-07:00"})[0] == 302
    page = browser.get("/settings")[2]
    assert 'value="22:30-07:00"' in page and "retention_ledger_days" in page  # every setting, read-only
    config = with_dashboard_changes(load_config(None, {"db_path": str(site.db)}), Database(site.db))
    assert config.values["language"] == "nl" and config.values["quiet_hours"] == (22 * 60 + 30, 7 * 60)
    assert config.values["report_email"] == "weekly" and config.source["language"] == "the dashboard"
    assert config.values["learning_days"] == 3.5


def test_a_device_set_to_metadata_only_shows_no_lookups_and_joins_the_setting(site: Site) -> None:
    from homeguard.store.web import with_dashboard_changes

    browser = Browser(site)
    browser.log_in()
    assert "log-ingestion.samsungacr.com" in browser.get(f"/devices/{TV[0]}")[2]  # its lookups, before
    csrf = browser.csrf(f"/devices/{TV[0]}")
    assert browser.post(f"/devices/{TV[0]}", {"csrf": csrf, "name": "", "metadata_only": "on"})[0] == 302
    page = browser.get(f"/devices/{TV[0]}")[2]
    assert "log-ingestion.samsungacr.com (A" not in page and "No lookups kept" in page
    config = with_dashboard_changes(load_config(None, {"db_path": str(site.db)}), Database(site.db))
    assert TV[0] in config.values["metadata_only"]


def test_the_report_page_filters_by_period_and_device(site: Site) -> None:
    browser = Browser(site)
    browser.log_in()
    everything = browser.get("/report?days=30")[2]
    assert "Spotify" in everything and "Samsung" in everything
    only_tv = browser.get(f"/report?days=30&device={TV[0]}")[2]
    assert "Samsung" in only_tv and "Spotify" not in only_tv
    assert '<option value="30" selected>' in only_tv
    site.clock.advance(40 * 86400)
    assert "Samsung" not in browser.get("/report?days=7")[2]  # a month and more later: not this week


def test_a_resolved_finding_opens_again_when_it_recurs(site: Site) -> None:
    browser = Browser(site)
    browser.log_in()
    page = browser.get("/findings")[2]
    found = re.search(r"/findings/(\d+)/resolve", page)
    assert found is not None
    finding_id = found.group(1)
    assert browser.post(f"/findings/{finding_id}/resolve", {"csrf": browser.csrf("/findings")})[0] == 302
    assert f"/findings/{finding_id}/resolve" not in browser.get("/findings")[2]  # closed: no buttons
    db = Database(site.db)
    with db.conn:  # the rule fires again after the fix
        db.execute("UPDATE findings SET last_seen = resolved + 60 WHERE rowid = ?", [finding_id])
    assert f"/findings/{finding_id}/resolve" in browser.get("/findings")[2]


def https_get(url: str, certificate: Path) -> tuple[int, dict[str, str], str, bytes]:
    """GET over TLS, trusting only `certificate` and checking the host name against it.
    Returns the status, headers, body and the certificate the server presented (DER)."""
    import ssl

    context = ssl.create_default_context(cafile=str(certificate))
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context, timeout=10)
    try:
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        presented = connection.sock.getpeercert(binary_form=True)
        return response.status, dict(response.getheaders()), response.read().decode(), presented or b""
    finally:
        connection.close()


def test_run_serves_https_with_a_self_signed_certificate_whose_fingerprint_it_logs(tmp_path: Path) -> None:
    import hashlib
    import stat

    from tests.receivers import free_port
    from tests.test_service_lifecycle import daemon_running

    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"web_listen: 127.0.0.1:{port}\nweb_tls: true\nrules_dir: {tmp_path / 'none'}\n")
    with daemon_running(tmp_path, config) as (_, log):
        text = log.read_text()
        assert f"dashboard on https://127.0.0.1:{port}/" in text
        assert f"open https://127.0.0.1:{port}/setup and enter the setup code" in text
        certificate, key = tmp_path / "web-certificate.pem", tmp_path / "web-key.pem"  # beside hg.db
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        status, headers, page, presented = https_get(f"https://127.0.0.1:{port}/login", certificate)
        assert status == 200 and "Log in" in page
        assert "Secure" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
        logged = re.search(r"SHA-256 fingerprint ([0-9A-F:]{95})", text)
        assert logged is not None and logged[1] == hashlib.sha256(presented).digest().hex(":").upper()
        with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5).read()  # no plain HTTP


def test_the_self_signed_certificate_is_kept_and_made_again_when_it_must(tmp_path: Path) -> None:
    from homeguard.web.tls import RENEW_DAYS, VALID_DAYS, fingerprint, self_signed

    clock = ManualClock(TS0)
    first = self_signed(tmp_path, "192.168.1.10", clock)
    kept = fingerprint(first.certificate)
    assert fingerprint(self_signed(tmp_path, "192.168.1.10", clock).certificate) == kept  # a restart
    moved = fingerprint(self_signed(tmp_path, "192.168.1.11", clock).certificate)  # a new address
    assert moved != kept
    clock.advance((VALID_DAYS - RENEW_DAYS + 1) * 86400.0)  # near its end
    assert fingerprint(self_signed(tmp_path, "192.168.1.11", clock).certificate) != moved


def test_homeguard_web_serves_https_with_the_households_own_certificate(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import make_certificate
    from tests.receivers import free_port

    db, config_path = replay_household(tmp_path)
    certificate = make_certificate(tmp_path, "/CN=HomeGuard", der=False, names="IP:127.0.0.1")
    config = tmp_path / "tls.yaml"
    config.write_text(
        config_path.read_text() + f"web_tls_certificate: {certificate}\nweb_tls_key: {tmp_path / 'key.pem'}\n"
    )
    port = free_port()
    command = [sys.executable, "-m", "homeguard", "web", "--tls", "--listen", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*command, "--db", str(db), "--config", str(config)], stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stderr is not None
        assert f"dashboard on https://127.0.0.1:{port}/" in proc.stderr.readline()
        status, _, page, _ = https_get(f"https://127.0.0.1:{port}/login", certificate)
        assert status == 200 and "Log in" in page
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    half = tmp_path / "half.yaml"
    half.write_text(f"web_tls_certificate: {certificate}\n")
    done = homeguard("web", "--tls", "--db", str(db), "--config", str(half), check=False)
    assert done.returncode != 0
    assert "web_tls_certificate and web_tls_key go together: set both, or neither" in done.stderr
