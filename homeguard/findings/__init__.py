"""Findings: what the rules concluded, one row per (rule, device, key), counted."""
