"""Outputs: where events and findings go besides the database and the alert outbox.
Each runs behind a bounded queue on a thread of its own (queued.py), so a slow or
stalled output never holds up capture."""
