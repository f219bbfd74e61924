"""State and enrichment: what HomeGuard remembers between packets, all of it bounded."""
