"""Prometheus metrics of the running daemon (`metrics_listen`), in the text exposition
format, served on a port of their own by a small HTTP server on a thread.

Names follow Prometheus's conventions: the `homeguard_` prefix, base units (bytes,
seconds), `_total` on counters, and the standard `process_*` names for the process.
No label carries a MAC address, a device name or a domain: only event types, rule
severities and categories, alert states and source names, which are HomeGuard's own
words. docs/metrics.md lists every series, and docs/grafana/homeguard.json is a
dashboard for them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("homeguard.metrics")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(slots=True)
class Metric:
    name: str
    kind: str  # counter or gauge
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)


def escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def exposition(metrics: Iterable[Metric]) -> str:
    lines = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {metric.help}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for labels, value in metric.samples:
            label_text = ",".join(f'{k}="{escaped(v)}"' for k, v in sorted(labels.items()))
            lines.append(f"{metric.name}{{{label_text}}} {value:g}" if labels else f"{metric.name} {value:g}")
    return "\n".join(lines) + "\n"


class MetricsServer:
    """Serves `collect()` at /metrics on HOST:PORT until closed."""

    def __init__(self, host: str, port: int, collect: Callable[[], list[Metric]]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404, "only /metrics is here")
                    return
                try:
                    body = exposition(collect()).encode()
                except Exception:  # a scrape must never take the daemon down
                    log.exception("cannot collect the metrics")
                    self.send_error(500, "cannot collect the metrics")
                    return
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("scrape: " + format, *args)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.address = self.server.server_address
        self._thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)
        self._thread.start()
        log.info("Prometheus metrics on http://%s:%d/metrics", *self.address[:2])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
