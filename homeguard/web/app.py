"""The dashboard: server-rendered pages (Flask and Jinja2, autoescaped), every one of them
working without JavaScript. Reads and writes go through the store's functions on a
connection of the request's own, so capture never waits for a page.

Why Flask (with cheroot to serve it, server.py): the smallest well-kept stack that parses
forms and cookies safely, renders Jinja2 with autoescaping, and runs in a thread of the
daemon on a Pi. Everything else here (sessions, CSRF, headers) is ours, in security.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from homeguard.clock import Clock
from homeguard.report.words import size
from homeguard.settings import Config
from homeguard.store import web as store
from homeguard.store.database import open_existing_database
from homeguard.web import pages, security
from homeguard.web.words import WORDS, best_language

HERE = Path(__file__).resolve().parent


def create_app(config: Config, db_path: Path, clock: Clock, secure_cookies: bool = False) -> Flask:
    app = Flask("homeguard.web", template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.globals.update(size=size, when=_when)

    @app.before_request
    def open_request() -> BaseResponse | None:
        g.db = open_existing_database(db_path)
        g.now = clock.time()
        g.language = best_language(
            request.cookies.get("homeguard_lang"), request.headers.get("Accept-Language")
        )
        g.words = WORDS[g.language]
        g.user = None
        token = request.cookies.get(security.COOKIE)
        found = store.session(g.db, security.token_hash(token), g.now) if token else None
        if found is not None:
            g.user, g.csrf, g.role = found["user"], found["csrf"], found["role"]
        if request.endpoint in ("login", "first_account", "static", "language"):
            return None
        if g.user is None:
            return redirect(url_for("login"))
        if request.method == "POST":
            if not security.same_token(request.form.get("csrf"), g.csrf):
                abort(403)
            if g.role != "admin":
                abort(403)
        return None

    @app.teardown_request
    def close_request(_error: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.update(security.HEADERS)
        return response

    @app.errorhandler(403)
    def forbidden(_error: Any) -> tuple[str, int]:
        return render_template("message.html", text=g.words["forbidden"]), 403

    @app.errorhandler(404)
    def not_found(_error: Any) -> tuple[str, int]:
        return render_template("message.html", text=g.words["not_found"]), 404

    pages.register(app, config, clock, secure_cookies)
    return app


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"
