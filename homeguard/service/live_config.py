"""SIGHUP: read the config file again and apply what can change while running.

Rules and lists, the log level, metadata_only, retention and the alert targets take
effect at once; a setting that shapes capture or memory (the interface, the filter,
the table sizes, ...) is logged as needing a restart. A config file with an error is
reported with its file:line, and the running config stays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from homeguard.errors import ConfigError
from homeguard.notify.queue import AlertQueue
from homeguard.pipeline.core import Pipeline
from homeguard.settings import Config, load_config

log = logging.getLogger("homeguard.config")
NEEDS_RESTART = frozenset(
    {
        "interface", "bpf_filter", "promiscuous", "socket_buffer_mb", "db_path", "max_flows", "max_devices",
        "max_server_names", "max_pending_dns", "flush_max_rows", "stats_interval", "retention_interval",
        "dhcp_servers", "ipv6_routers", "household_resolvers", "capture_ring_mb", "capture_workers",
    }
)  # fmt: skip
ALERTING = frozenset({"notify", "language", "quiet_hours", "digest_hour"})
# The exports (export_*, fleet_*) are built once, with their threads and queue: also a restart.


class LiveConfig:
    def __init__(
        self,
        path: str | None,
        overrides: Mapping[str, object],
        config: Config,
        pipeline: Pipeline,
        alerts: AlertQueue | None,
        restart_sender: Callable[[Config], None],
    ) -> None:
        self.path = path
        self.overrides = overrides
        self.config = config
        self.pipeline = pipeline
        self.alerts = alerts
        self.restart_sender = restart_sender
        # Others that follow the running config as the pipeline does (the capture workers).
        self.followers: list[Callable[[Config], None]] = []

    def reload(self) -> None:
        try:
            fresh = load_config(self.path, self.overrides)
        except ConfigError as exc:
            log.error("config not reloaded (the running one stays): %s", exc)
            return
        if self.pipeline.writer is not None:  # the targets added in the dashboard (SIGHUP picks them up)
            from homeguard.store.web import with_dashboard_changes

            with_dashboard_changes(fresh, self.pipeline.writer.db)
        changed = {name for name in fresh.values if fresh.value(name) != self.config.value(name)}
        restart = {n for n in changed if n in NEEDS_RESTART or n.startswith(("export_", "fleet_"))}
        for name in sorted(restart):
            log.warning("%s changed: takes effect after a restart (systemctl restart homeguard)", name)
        self.config = fresh
        self.pipeline.config = fresh
        self.pipeline.set_metadata_only(fresh.values["metadata_only"])
        for follow in self.followers:
            follow(fresh)
        logging.getLogger().setLevel(fresh.values["log_level"].upper())
        if changed & ALERTING:
            from homeguard.notify.service import usable_targets

            targets = usable_targets(fresh)
            if self.alerts is not None:
                self.alerts.targets, self.alerts.language = targets, fresh.values["language"]
            self.restart_sender(fresh)
        log.info("config reloaded from %s: %d setting(s) changed", self.path or "the defaults", len(changed))
