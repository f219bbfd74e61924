"""Exports to an IT department's SIEM (docs/fleet.md): the privacy partition, ECS and CEF
documents, an ECS JSON file, and syslog over TLS, TCP or UDP from a queue on disk."""
