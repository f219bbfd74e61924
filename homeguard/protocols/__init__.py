"""Protocols: one module each, owning how its traffic is recognised, the handler or
stream analyzer that reads it, the events it builds and the fields they carry. The
byte-level parsers they call live in decode/, the TCP stream analyzers in sessions/."""
