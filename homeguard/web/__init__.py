"""The dashboard: server-rendered pages over the store, with its own locks (security.py)."""
