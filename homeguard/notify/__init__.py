"""Alerts: targets, the outbox, the alert budget (caps, quiet hours, digests, mutes)
and delivery through apprise."""
