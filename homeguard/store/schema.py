"""The database schema, as numbered migrations. PRAGMA user_version holds the number
of the last migration applied; each migration runs once, in one transaction."""

from __future__ import annotations

from collections.abc import Callable

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


MIGRATIONS: tuple[Callable[[Database], None], ...] = (_v1_core_tables,)
SCHEMA_VERSION = len(MIGRATIONS)
