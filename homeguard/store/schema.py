"""The database schema, as numbered migrations. PRAGMA user_version holds the number
of the last migration applied; each migration runs once, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sqlite-utils is loaded where a database is opened: capture workers never do
    from sqlite_utils import Database


def _v1_core_tables(db: Database) -> None:
    db.table("devices").create(
        {
            "mac": str,
            "vendor": str,
            "randomized": int,
            "hostname": str,
            "mdns_name": str,
            "vendor_class": str,
            "dhcp_fingerprint": str,
            "ssdp_server": str,
            "first_seen": float,
            "last_seen": float,
        },
        pk="mac",
    )
    db.table("device_ips").create(
        {"mac": str, "ip": str, "first_seen": float, "last_seen": float}, pk=("mac", "ip")
    )
    db.table("flows").create(
        {
            "id": int,
            "start": float,
            "end": float,
            "proto": str,
            "src_mac": str,
            "src_ip": str,
            "src_port": int,
            "dst_mac": str,
            "dst_ip": str,
            "dst_port": int,
            "server_name": str,
            "packets_out": int,
            "bytes_out": int,
            "packets_in": int,
            "bytes_in": int,
            "end_reason": str,
        },
        pk="id",
    )
    db.table("flows").create_index(["start"])
    db.table("flows").create_index(["src_mac", "start"])
    db.table("dns_log").create(
        {
            "id": int,
            "ts": float,
            "device_mac": str,
            "client_ip": str,
            "server_ip": str,
            "query": str,
            "qtype": str,
            "rcode": str,
            "answers": str,
            "transport": str,
        },
        pk="id",
    )
    db.table("dns_log").create_index(["ts"])
    db.table("dns_log").create_index(["device_mac", "ts"])
    db.table("capture_stats").create(
        {
            "id": int,
            "ts": float,
            "source": str,
            "packets": int,
            "bytes": int,
            "kernel_drops": int,
            "malformed": int,
            "events": int,
        },
        pk="id",
    )


def _v2_findings_and_rule_state(db: Database) -> None:
    # Plain SQL: the unique key (rule, device, key) is what makes a repeat update its row.
    db.executescript(
        """
        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            rule TEXT NOT NULL,
            device_mac TEXT NOT NULL,
            key TEXT NOT NULL,
            title TEXT, category TEXT, severity TEXT,
            device_ip TEXT,
            message TEXT, message_nl TEXT, remediation TEXT, remediation_nl TEXT,
            evidence TEXT,
            count INTEGER NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            UNIQUE (rule, device_mac, key)
        );
        CREATE INDEX findings_last_seen ON findings (last_seen);
        CREATE TABLE first_seen_keys (
            rule TEXT NOT NULL, key TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
            PRIMARY KEY (rule, key)
        );
        CREATE TABLE rule_learning (rule TEXT PRIMARY KEY, started REAL NOT NULL);
        """
    )


def _v3_outbox_and_mutes(db: Database) -> None:
    # The outbox is written in the same transaction as the finding that fills it, so an
    # alert is never lost between the two. kind: push (one alert) or digest (a summary);
    # state: pending, sending, delivered, failed, digest (waits for, or went into, a
    # digest: digest_id) or muted.
    db.executescript(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            created REAL NOT NULL,
            target TEXT NOT NULL,
            kind TEXT NOT NULL,
            rule TEXT, device_mac TEXT, device TEXT, finding_key TEXT,
            severity TEXT, category TEXT,
            title TEXT NOT NULL, body TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt REAL NOT NULL,
            last_error TEXT,
            delivered REAL,
            digest_id INTEGER
        );
        CREATE INDEX outbox_due ON outbox (state, next_attempt);
        CREATE INDEX outbox_target ON outbox (target, state, created);
        CREATE TABLE mutes (
            kind TEXT NOT NULL, value TEXT NOT NULL, until REAL, created REAL NOT NULL,
            PRIMARY KEY (kind, value)
        );
        """
    )


def _v4_retention_and_self_monitoring(db: Database) -> None:
    # Hourly totals of flows past their retention; the daemon's own CPU and memory.
    db.executescript(
        """
        CREATE TABLE flow_hours (
            hour REAL NOT NULL, src_mac TEXT NOT NULL, dst_ip TEXT NOT NULL, dst_port INTEGER NOT NULL,
            proto TEXT NOT NULL, server_name TEXT, flows INTEGER NOT NULL,
            packets_out INTEGER, bytes_out INTEGER, packets_in INTEGER, bytes_in INTEGER,
            PRIMARY KEY (hour, src_mac, dst_ip, dst_port, proto)
        );
        CREATE INDEX outbox_created ON outbox (created);
        CREATE INDEX capture_stats_ts ON capture_stats (ts);
        ALTER TABLE capture_stats ADD COLUMN cpu_percent REAL;
        ALTER TABLE capture_stats ADD COLUMN rss_bytes INTEGER;
        ALTER TABLE capture_stats ADD COLUMN started REAL;
        """
    )


def _v5_infrastructure(db: Database) -> None:
    # The household's DHCP servers, IPv6 routers, gateways and resolvers, as learned.
    db.executescript(
        """
        CREATE TABLE infrastructure (
            kind TEXT NOT NULL, value TEXT NOT NULL, first_seen REAL NOT NULL,
            PRIMARY KEY (kind, value)
        );
        """
    )


def _v6_output_drops_and_stops(db: Database) -> None:
    # Events an output dropped because it fell behind (outputs/queued.py), since start;
    # and when the daemon stopped cleanly (its last row), so that status can tell.
    db.executescript(
        """
        ALTER TABLE capture_stats ADD COLUMN output_drops INTEGER;
        ALTER TABLE capture_stats ADD COLUMN stopped REAL;
        """
    )


def _v7_ledger(db: Database) -> None:
    # The data ledger: what each device sent to and received from each organisation, per
    # server country and local day (store/ledger.py, docs/storage.md).
    db.executescript(
        """
        CREATE TABLE ledger (
            day TEXT NOT NULL, device_mac TEXT NOT NULL, org TEXT NOT NULL,
            server_country TEXT NOT NULL, jurisdiction TEXT, purpose TEXT, via TEXT,
            source TEXT, tracker INTEGER NOT NULL DEFAULT 0, detail INTEGER NOT NULL DEFAULT 1,
            bytes_out INTEGER NOT NULL, bytes_in INTEGER NOT NULL, connections INTEGER NOT NULL,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL, domains TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (day, device_mac, org, server_country)
        );
        CREATE INDEX ledger_last_seen ON ledger (last_seen);
        CREATE INDEX ledger_device_day ON ledger (device_mac, day);
        """
    )


def _v8_web(db: Database) -> None:
    # The dashboard (homeguard/web/): its accounts (scrypt hashes), sessions (a hash of the
    # cookie's token), failed logins per client (to slow guessing), what the household
    # says about a device, and findings it acknowledged.
    db.executescript(
        """
        CREATE TABLE web_users (
            name TEXT PRIMARY KEY, role TEXT NOT NULL, password TEXT NOT NULL, created REAL NOT NULL
        );
        CREATE TABLE web_sessions (
            token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,
            created REAL NOT NULL, expires REAL NOT NULL
        );
        CREATE TABLE web_failures (client TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL);
        CREATE TABLE device_notes (
            mac TEXT PRIMARY KEY, name TEXT, known INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL
        );
        ALTER TABLE findings ADD COLUMN acknowledged REAL;
        """
    )


def _v9_dashboard_targets(db: Database) -> None:
    # Alert targets added in the dashboard, beside those of the config file.
    db.executescript(
        """
        CREATE TABLE notify_targets (
            name TEXT PRIMARY KEY, url TEXT NOT NULL, min_severity TEXT NOT NULL, created REAL NOT NULL
        );
        """
    )


def _v10_web_setup(db: Database) -> None:
    # A one-time code for choosing the dashboard's first password in the browser; shown
    # in the journal and by setup, gone once used or after a day.
    db.executescript("CREATE TABLE web_setup (code TEXT NOT NULL, expires REAL NOT NULL);")


def _v11_web_settings(db: Database) -> None:
    # The few settings a household changes in the dashboard (language, quiet hours, the
    # e-mailed report); they apply over the config file's.
    db.executescript(
        "CREATE TABLE web_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);"
    )


def _v12_metadata_only_from_the_dashboard(db: Database) -> None:
    # A device set to metadata-only in the dashboard (joins the metadata_only setting).
    db.executescript("ALTER TABLE device_notes ADD COLUMN metadata_only INTEGER NOT NULL DEFAULT 0;")


def _v13_resolved_findings(db: Database) -> None:
    # A finding the household says it fixed (beside one it only acknowledged).
    db.executescript("ALTER TABLE findings ADD COLUMN resolved REAL;")


def _v14_visibility_and_dashboard_changes(db: Database) -> None:
    # What the daemon can see (flows between other devices, and so on: state/visibility.py),
    # and a counter the dashboard raises on every change a running daemon should take up.
    db.executescript(
        """
        ALTER TABLE capture_stats ADD COLUMN flows_between_others INTEGER;
        ALTER TABLE capture_stats ADD COLUMN flows_answered INTEGER;
        ALTER TABLE capture_stats ADD COLUMN flows_group INTEGER;
        ALTER TABLE capture_stats ADD COLUMN flows_own INTEGER;
        CREATE TABLE dashboard_changes (
            id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, changed REAL
        );
        INSERT INTO dashboard_changes (id, count, changed) VALUES (1, 0, NULL);
        """
    )


def _v15_export_spool(db: Database) -> None:
    # Documents waiting for a network export (store/spool.py): the SIEM may be out for hours.
    db.executescript(
        """
        CREATE TABLE export_spool (
            id INTEGER PRIMARY KEY, created REAL NOT NULL, event_id TEXT NOT NULL,
            severity TEXT NOT NULL, msgid TEXT NOT NULL, body TEXT NOT NULL, sent REAL
        );
        CREATE INDEX export_spool_unsent ON export_spool (sent, id);
        """
    )


def _v16_capture_workers(db: Database) -> None:
    # Capture workers (workers/pool.py): how often one died and was started again, and
    # the flows open in it then, whose counts ended with it; since start.
    db.executescript(
        """
        ALTER TABLE capture_stats ADD COLUMN worker_restarts INTEGER;
        ALTER TABLE capture_stats ADD COLUMN flows_lost INTEGER;
        """
    )


MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_core_tables,
    _v2_findings_and_rule_state,
    _v3_outbox_and_mutes,
    _v4_retention_and_self_monitoring,
    _v5_infrastructure,
    _v6_output_drops_and_stops,
    _v7_ledger,
    _v8_web,
    _v9_dashboard_targets,
    _v10_web_setup,
    _v11_web_settings,
    _v12_metadata_only_from_the_dashboard,
    _v13_resolved_findings,
    _v14_visibility_and_dashboard_changes,
    _v15_export_spool,
    _v16_capture_workers,
)
SCHEMA_VERSION = len(MIGRATIONS)
