"""What the pipeline writes about the household besides devices, flows and the DNS log
(those are plain batched rows): the infrastructure it learned."""

from __future__ import annotations

from homeguard.store.writer import BatchWriter


def learn_infrastructure(writer: BatchWriter, kind: str, value: str, ts: float) -> None:
    """A DHCP server, router, gateway or resolver of the household, kept across restarts."""
    writer.statement(
        "INSERT OR IGNORE INTO infrastructure (kind, value, first_seen) VALUES (?, ?, ?)", (kind, value, ts)
    )
