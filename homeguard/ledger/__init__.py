"""The household's data ledger: where each device's data goes, per organisation, country and day."""
