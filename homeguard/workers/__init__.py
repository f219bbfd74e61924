"""Capture on every core: worker processes that capture, decode and track flows, and the
household process they send their events to (docs/performance.md)."""
