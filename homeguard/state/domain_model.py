"""How machine-made a domain's name looks: a character trigram model of real names.

Malware with a domain generation algorithm (DGA) makes up names such as
`gfu7hbxpfp.com`. Their letters follow each other the way dice fall, not the way words
and brands are spelled; entropy alone misses them, since a ten-letter name cannot show
much of it. The model scores a registrable domain's own label ("gfu7hbxpfp") by how
surprising each next character is after the two before it, in bits per character,
against English and Dutch words and the domains HomeGuard ships in its lists.

The table is trained by `scripts/train_domain_model.py` (its sources and their licences
are in docs/dga.md) and shipped as `homeguard/data/domain_trigrams.bin`: one byte per
trigram, the surprise in eighths of a bit. Measured by `scripts/dga_eval.py`.
"""

from __future__ import annotations

import functools
from importlib import resources

from homeguard.errors import HomeGuardError

# Every digit is one symbol, "0": what matters is where numbers stand (office365, web2),
# not which digits they are, and the words the model learns from have none.
ALPHABET = "abcdefghijklmnopqrstuvwxyz0-"
START = len(ALPHABET)  # before a label's first character
END = START + 1  # after its last
SYMBOLS = END + 1
MAGIC = b"HGDM1\n"
SCALE = 8.0  # a table byte is the surprise in eighths of a bit
CODES = {c: i for i, c in enumerate(ALPHABET)} | {d: ALPHABET.index("0") for d in "123456789"}

# Judged only from this length: a shorter name has too few letters to tell a made-up one
# from an abbreviation (bbc, ns1, tk2), and a real DGA uses 8 to 20 or more.
MIN_LENGTH = 8
# Bits per character from which a label reads as generated. Chosen with scripts/dga_eval.py
# --sweep (docs/dga.md gives precision and recall at it): half of real names score under
# 3.9 and 95% under 5.5; nine in ten generated names score over 6.
GENERATED_FROM = 5.5


def trigram_index(a: int, b: int, c: int) -> int:
    return (a * SYMBOLS + b) * SYMBOLS + c


@functools.cache  # 24 kB, read once per process and shared read-only
def trigram_table() -> bytes:
    data = resources.files("homeguard").joinpath("data/domain_trigrams.bin").read_bytes()
    if not data.startswith(MAGIC) or len(data) != len(MAGIC) + SYMBOLS**3:
        raise HomeGuardError("homeguard/data/domain_trigrams.bin is damaged: reinstall HomeGuard")
    return data[len(MAGIC) :]


def surprise(label: str, table: bytes | None = None) -> float | None:
    """Bits per character of a label (lower case), or None for a label the model cannot
    judge: too short, an internationalised name (xn--, its letters are encoded), or
    characters outside names' alphabet."""
    if len(label) < MIN_LENGTH or label.startswith("xn--"):
        return None
    codes = [CODES.get(c, -1) for c in label]
    if -1 in codes:
        return None
    table = trigram_table() if table is None else table
    a, b, total = START, START, 0
    for c in (*codes, END):
        total += table[trigram_index(a, b, c)]
        a, b = b, c
    return round(total / SCALE / (len(codes) + 1), 3)


def looks_generated(bits: float | None) -> bool:
    return bits is not None and bits >= GENERATED_FROM
