"""The dashboard's pages and the forms that change something. Every name a device chose
reaches a template as text and is escaped there; the report's sections and charts are
built escaped (report/render.py) and marked safe here."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from homeguard.clock import Clock
from homeguard.errors import ConfigError
from homeguard.fleet.status import fleet_status
from homeguard.notify.delivery import AppriseNotifier, apprise_problem, masked_url
from homeguard.report.build import build_report
from homeguard.report.render import bar_chart, device_section, legend
from homeguard.settings import Config
from homeguard.settings.targets import SEVERITIES, Target
from homeguard.state.visibility import BROADCAST_ONLY, NOTHING, ONE_WAY, SEES_ALL, visibility_verdict
from homeguard.store import outbox
from homeguard.store import web as store
from homeguard.store.queries import device_listing, finding_listing, latest_capture_stats
from homeguard.web import security
from homeguard.web.services import SERVICES, apprise_url
from homeguard.web.words import LANGUAGES, SEVERITY

MUTE_FOR = {"day": 86400.0, "week": 7 * 86400.0, "forever": None}
DNS_SHOWN = 50
PAGE = 50  # findings per page
PERIODS = (1, 7, 30, 365)  # days the report page offers
STALE_STATS = 600.0  # seconds without a statistics row: the daemon is not running
ATTENTION = ("high", "critical")
VISIBILITY_MINIMUM = 20  # flows before the overview says what HomeGuard can see...
VISIBILITY_PATIENCE = 300.0  # ...or seconds since it started, on a quiet network
VISIBILITY_WORDS = {
    NOTHING: "sees_nothing",
    BROADCAST_ONLY: "sees_broadcast",
    ONE_WAY: "sees_one_way",
    SEES_ALL: "sees_all",
}


def register(app: Flask, config: Config, clock: Clock, secure: bool) -> None:
    app.config["RULE_TITLES"] = rule_titles(config)
    _login_pages(app, clock, secure)
    _device_pages(app, config)
    _finding_pages(app)
    _alert_pages(app, config)
    _settings_pages(app, config)

    @app.get("/")
    def overview() -> str:
        return render_template(
            "overview.html", health=_health(), attention=_attention(), chart=_week_chart(), legend=_legend()
        )

    @app.get("/report")
    def report() -> str:
        days = request.args.get("days", 7, type=int)
        days = days if days in PERIODS else 7
        mac = _device_arg()
        data = build_report(g.db, g.now, days, g.language, mac)
        sections = Markup("".join(device_section(d, g.language) for d in data["devices"]))
        choices = [(d["mac"], d["label"]) for d in _devices()]
        return render_template(
            "report.html",
            data=data,
            sections=sections,
            days=days,
            periods=PERIODS,
            device=mac,
            choices=choices,
        )

    @app.post("/language")
    def language() -> BaseResponse:
        chosen = request.form.get("language", "")
        response = redirect(request.referrer or url_for("overview"))
        if chosen in LANGUAGES:
            response.set_cookie(
                "homeguard_lang", chosen, max_age=365 * 86400, samesite="Strict", secure=secure
            )
        return response


def _login_pages(app: Flask, clock: Clock, secure: bool) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login() -> BaseResponse | tuple[str, int] | str:
        nonce = request.cookies.get("homeguard_login") or security.new_token()
        problem = ""
        if request.method == "POST":
            if not security.same_token(request.form.get("csrf"), nonce):
                abort(403)
            client = request.remote_addr or "?"
            count, last = store.failures(g.db, client)
            wait = security.login_delay(count) - (g.now - last)
            if wait > 0:
                problem = g.words["slow_down"].format(seconds=int(wait) + 1)
                return render_template("login.html", nonce=nonce, problem=problem), 429
            found = store.user(g.db, request.form.get("user", ""))
            if found and security.check_password(request.form.get("password", ""), found["password"]):
                store.forget_failures(g.db, client)
                return _start_session(found["name"], clock.time(), secure)
            store.count_failure(g.db, client, g.now)
            problem = g.words["bad_login"]
        page = render_template("login.html", nonce=nonce, problem=problem, users=store.has_users(g.db))
        response = app.make_response((page, 401 if problem else 200))
        response.set_cookie("homeguard_login", nonce, httponly=True, samesite="Strict", secure=secure)
        return response

    @app.route("/setup", methods=["GET", "POST"])
    def first_account() -> BaseResponse | tuple[str, int] | str:
        """The first password, chosen in the browser with the setup code from the journal."""
        code = store.waiting_setup_code(g.db, g.now)
        if code is None:
            return redirect(url_for("login"))
        nonce = request.cookies.get("homeguard_login") or security.new_token()
        problem, status = "", 200
        if request.method == "POST":
            if not security.same_token(request.form.get("csrf"), nonce):
                abort(403)
            given = request.form.get("code", "").strip().upper()
            password = request.form.get("password", "")
            if not security.same_token(given, code):
                problem, status = g.words["bad_code"], 403
            elif len(password) < 10 or password != request.form.get("again"):
                problem, status = g.words["bad_new_password"], 400
            else:
                store.set_user(g.db, "admin", "admin", security.hash_password(password), g.now)
                store.use_setup_code(g.db)
                return _start_session("admin", clock.time(), secure)
        response = app.make_response((render_template("setup.html", nonce=nonce, problem=problem), status))
        response.set_cookie("homeguard_login", nonce, httponly=True, samesite="Strict", secure=secure)
        return response

    @app.post("/logout")
    def logout() -> BaseResponse:
        token = request.cookies.get(security.COOKIE)
        if token:
            store.end_session(g.db, security.token_hash(token))
        response = redirect(url_for("login"))
        response.delete_cookie(security.COOKIE)
        return response


def _start_session(name: str, now: float, secure: bool) -> BaseResponse:
    token = security.new_token()
    expires = now + security.SESSION_DAYS * 86400
    store.start_session(g.db, security.token_hash(token), name, security.new_token(), now, expires)
    response = redirect(url_for("overview"))
    response.set_cookie(
        security.COOKIE,
        token,
        max_age=security.SESSION_DAYS * 86400,
        httponly=True,
        samesite="Strict",
        secure=secure,
    )
    return response


def _device_pages(app: Flask, config: Config) -> None:
    @app.get("/devices")
    def devices() -> str:
        return render_template("devices.html", devices=_devices())

    @app.get("/devices/<mac>")
    def device(mac: str) -> str:
        found = next((d for d in _devices() if d["mac"] == mac), None)
        if found is None:
            abort(404)
        private = found["metadata_only"] or mac in {m.lower() for m in config.values["metadata_only"]}
        data = build_report(g.db, g.now, 7, g.language, mac)
        sections = Markup("".join(device_section(d, g.language) for d in data["devices"]))
        lookups = [] if private else _lookups(mac)
        findings = [f for f in _findings() if f["device_mac"] == mac]
        saved = request.args.get("saved") == "1"
        return render_template(
            "device.html", device=found, sections=sections, lookups=lookups, findings=findings, saved=saved
        )

    @app.post("/devices/<mac>")
    def note_device(mac: str) -> BaseResponse:
        name = request.form.get("name", "").strip()[:64]
        known, private = (request.form.get(k) == "on" for k in ("known", "metadata_only"))
        store.note_device(g.db, mac, name or None, known, g.now, private)
        return redirect(url_for("device", mac=mac, saved=1))


def _finding_pages(app: Flask) -> None:
    @app.get("/findings")
    def findings() -> str:
        rows = sorted(_findings(), key=lambda f: (not f["open"], -f["last_seen"]))  # open ones first
        pages = max(1, -(-len(rows) // PAGE))
        page = min(pages, max(1, request.args.get("page", 1, type=int) or 1))
        shown = rows[(page - 1) * PAGE : page * PAGE]
        notice = request.args.get("done", "")
        return render_template("findings.html", findings=shown, notice=notice, page=page, pages=pages)

    @app.post("/findings/<int:finding_id>/acknowledge")
    def acknowledge(finding_id: int) -> BaseResponse:
        store.acknowledge(g.db, finding_id, g.now)
        return redirect(url_for("findings", done="acknowledged"))

    @app.post("/findings/<int:finding_id>/resolve")
    def resolve(finding_id: int) -> BaseResponse:
        store.acknowledge(g.db, finding_id, g.now, resolved=True)
        return redirect(url_for("findings", done="resolved"))

    @app.post("/mute")
    def mute() -> BaseResponse:
        kind, value, span = (request.form.get(k, "") for k in ("kind", "value", "for"))
        if kind not in ("rule", "device") or not value or span not in MUTE_FOR:
            abort(400)
        seconds = MUTE_FOR[span]
        outbox.mute(g.db, kind, value, g.now + seconds if seconds else None, g.now)
        return redirect(url_for("findings", done="muted"))


def _alert_pages(app: Flask, config: Config) -> None:
    @app.get("/alerts")
    def alerts() -> str:
        return _alerts_page(config, request.args.get("done", ""), "")

    @app.post("/alerts/targets")
    def add_target() -> BaseResponse | tuple[str, int]:
        name = request.form.get("name", "").strip()[:40]
        severity = request.form.get("min_severity", "medium")
        try:
            if not name or severity not in SEVERITIES:
                raise ConfigError(g.words["target_name"])
            url = apprise_url(request.form.get("service", ""), dict(request.form))
            problem = apprise_problem(Target(name, url, store.DASHBOARD))
            if problem:
                raise ConfigError(problem)
        except ConfigError as exc:
            return _alerts_page(config, "", str(exc)), 400
        store.add_target(g.db, name, url, severity, g.now)
        return redirect(url_for("alerts", done="added"))

    @app.post("/alerts/targets/<name>/test")
    def test_target(name: str) -> BaseResponse | tuple[str, int]:
        target = next((t for t in _targets(config) if t.name == name), None)
        if target is None:
            abort(404)
        problem = AppriseNotifier().send(target, g.words["test_title"], g.words["test_body"])
        if problem:
            return _alerts_page(config, "", g.words["test_failed"].format(reason=problem)), 502
        return redirect(url_for("alerts", done="tested"))

    @app.post("/alerts/targets/<name>/remove")
    def remove_target(name: str) -> BaseResponse:
        store.remove_target(g.db, name, g.now)
        return redirect(url_for("alerts", done="removed"))


def _settings_pages(app: Flask, config: Config) -> None:
    @app.get("/settings")
    def settings() -> str:
        return _settings_page(config, request.args.get("done", ""), "")

    @app.post("/settings")
    def change_settings() -> BaseResponse | tuple[str, int]:
        wanted = {name: request.form.get(name, "").strip() for name in store.HOUSEHOLD_SETTINGS}
        trial = Config()
        try:
            for name, value in wanted.items():
                trial.set_text(name, value, store.DASHBOARD)  # the same checks as the file's
        except ConfigError as exc:
            return _settings_page(config, "", str(exc)), 400
        for name, value in wanted.items():
            store.set_setting(g.db, name, value, g.now)
        return redirect(url_for("settings", done="settings_saved"))


def _settings_page(config: Config, done: str, problem: str) -> str:
    changed = store.dashboard_settings(g.db)
    current = {name: changed.get(name, _shown(config.value(name))) for name in store.HOUSEHOLD_SETTINGS}
    rows = [
        {
            "name": name,
            "value": _shown(config.value(name)),
            "source": config.source.get(name, g.words["default"]),
        }
        for name in sorted(config.values)
        if name != "notify"
    ]
    fleet = fleet_status(config)
    shown = fleet if fleet.url or fleet.version is not None or fleet.exporting else None
    return render_template(
        "settings.html", rows=rows, current=current, done=done, problem=problem, fleet=shown
    )


def _shown(value: object) -> str:
    """A setting as the config file writes it (quiet hours as 22:00-07:00)."""
    if value is None:
        return ""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        start, end = value
        return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    return str(value)


def _targets(config: Config) -> list[Target]:
    own = {t.name for t in config.values["notify"]}
    return [*config.values["notify"], *(t for t in store.dashboard_targets(g.db) if t.name not in own)]


def _alerts_page(config: Config, done: str, problem: str) -> str:
    targets = [
        {"name": t.name, "url": masked_url(t), "from_file": t.where != store.DASHBOARD, "min": t.min_severity}
        for t in _targets(config)
    ]
    rows = list(reversed(outbox.listing(g.db)))[:100]
    return render_template(
        "alerts.html",
        targets=targets,
        rows=rows,
        services=SERVICES,
        done=done,
        problem=problem,
        severities=SEVERITIES,
    )


# -- what the pages show ------------------------------------------------------------


def _known() -> tuple[dict[str, Any], dict[str, Any]]:
    """The household's notes and the device rows, by MAC: read once per request."""
    if "known" not in g:
        g.known = store.device_notes(g.db), {row["mac"]: row for row in device_listing(g.db)}
    return g.known  # type: ignore[no-any-return]


def _devices() -> list[dict[str, Any]]:
    notes, known = _known()
    open_counts: dict[str, int] = {}
    for finding in _findings():
        if finding["open"]:
            open_counts[finding["device_mac"]] = open_counts.get(finding["device_mac"], 0) + 1
    for row in known.values():
        note = notes.get(row["mac"]) or {}
        row["label"] = _label(row["mac"])
        row["your_name"] = note.get("name") or ""
        row["known"] = bool(note.get("known"))
        row["metadata_only"] = bool(note.get("metadata_only"))
        row["open"] = open_counts.get(row["mac"], 0)
    return list(known.values())


def rule_titles(config: Config) -> dict[str, dict[str, str]]:
    """Each rule's title in each language (the findings table keeps the English one)."""
    from homeguard.rules.configured import load_rules_for

    rules = load_rules_for(config).rules
    return {rule_id: {lang: t.title for lang, t in rule.texts.items()} for rule_id, rule in rules.items()}


def _label(mac: str) -> str:
    """The household's name for a device, else the name it gave, else its maker and MAC."""
    notes, known = _known()
    note = notes.get(mac) or {}
    row = known.get(mac) or {}
    if note.get("name"):
        return str(note["name"])
    if row.get("name"):
        return f"“{row['name']}”"  # the name the device chose: quoted, never read as our words
    return f"{row['vendor']} {mac}" if row.get("vendor") else f"{g.words['unnamed']} {mac}"


def _findings() -> list[dict[str, Any]]:
    """Every finding, in the visitor's language: read once per request."""
    if "findings" in g:
        return g.findings  # type: ignore[no-any-return]
    rows = finding_listing(g.db)
    nl = g.language == "nl"
    titles = current_app.config["RULE_TITLES"]
    for row in rows:
        closed = max(row.get("acknowledged") or 0.0, row.get("resolved") or 0.0)
        row["open"] = not closed or row["last_seen"] > closed  # it came back since
        row["fixed"] = bool(row.get("resolved")) and not row["open"]
        row["device"] = _label(row["device_mac"]) if row["device_mac"] else ""
        row["severity_text"] = SEVERITY[g.language].get(row["severity"], row["severity"])
        row["text"] = (row["message_nl"] if nl and row["message_nl"] else row["message"]) or ""
        row["title"] = titles.get(row["rule"], {}).get(g.language) or row["title"]
        row["fix"] = (row["remediation_nl"] if nl and row["remediation_nl"] else row["remediation"]) or ""
    g.findings = rows
    return rows


def _health() -> list[dict[str, Any]]:
    """Whether the daemon runs, and doctor's verdict on what it sees, from its last report."""
    rows = latest_capture_stats(g.db, 1)
    if not rows:
        return [{"state": "none", "text": g.words["no_stats"]}]
    row, age = rows[0], g.now - rows[0]["ts"]
    if row["stopped"] or age > STALE_STATS:
        return [{"state": "down", "text": g.words["not_running"].format(minutes=int(age // 60))}]
    running = {"state": "ok", "text": g.words["running"].format(packets=row["packets"])}
    return [running, _visibility(row)]


def _visibility(row: dict[str, Any]) -> dict[str, Any]:
    between, answered = row["flows_between_others"] or 0, row["flows_answered"] or 0
    other = (row["flows_group"] or 0) + (row["flows_own"] or 0)
    running_for = row["ts"] - (row["started"] or row["ts"])
    if between + other < VISIBILITY_MINIMUM and running_for < VISIBILITY_PATIENCE:
        return {"state": "none", "text": g.words["sees_not_yet"]}
    verdict = visibility_verdict(between, other, answered)
    state = "ok" if verdict == SEES_ALL else "down"
    return {"state": state, "text": g.words[VISIBILITY_WORDS[verdict]].format(flows=f"{between:,}")}


def _attention() -> list[dict[str, Any]]:
    return [f for f in _findings() if f["open"] and f["severity"] in ATTENTION][:10]


def _week_chart() -> Markup | None:
    data = build_report(g.db, g.now, 7, g.language)
    items = [(_label(d["mac"]), d["bytes_out"], d["bytes_in"]) for d in data["devices"][:12]]
    if not items:
        return None
    return Markup(bar_chart(items, g.words["week"], "week-chart"))


def _legend() -> Markup:
    return Markup(legend(g.language))


def _lookups(mac: str) -> list[dict[str, Any]]:
    return list(
        g.db.query(
            "SELECT ts, query, qtype, rcode FROM dns_log WHERE device_mac = ? ORDER BY ts DESC LIMIT ?",
            [mac, DNS_SHOWN],
        )
    )


def _device_arg() -> str | None:
    mac = request.args.get("device")
    return mac.lower() if mac else None
