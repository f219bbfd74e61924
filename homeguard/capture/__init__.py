"""Capture: where raw frames come from (a live interface or capture files)."""
