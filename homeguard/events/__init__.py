"""Events: each decoded fact as a flat dict of dotted field names (see catalog.py)."""

from typing import Any

# An event is a flat dict: {"ts": 1700000000.0, "type": "dns", "dns.query": "example.com", ...}.
# Flat and plain so that it is cheap to build, to match in rules and to write as JSON.
Event = dict[str, Any]
