"""The household's data report: build.py gathers it from the ledger, render.py draws it."""
