"""Decode: raw bytes to facts, with struct and slicing only (no per-packet scapy).

Every decoder raises DecodeError, and nothing else, on bytes it cannot read.
"""
