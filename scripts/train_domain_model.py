#!/usr/bin/env python3
"""Train the domain-name model (homeguard/state/domain_model.py) and write its table.

    python scripts/train_domain_model.py [--out homeguard/data/domain_trigrams.bin]

Sources, all under licences that allow shipping what is derived from them (docs/dga.md):
- English words: Debian's `wamerican` (SCOWL, a permissive licence), /usr/share/dict/american-english;
- Dutch words: Debian's `wdutch` (OpenTaal, BSD or CC BY 3.0), /usr/share/dict/dutch;
- the labels of the domains in HomeGuard's own lists (entities.yaml, trackers.txt), CC0,
  but for every fifth one, which scripts/dga_eval.py keeps back to measure with;
- the labels of the Public Suffix List's private section (MPL 2.0), such as blogspot
  and herokuapp, from the publicsuffixlist package.

The table is deterministic: the same sources give the same bytes.
"""

from __future__ import annotations

import argparse
import math
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml
from publicsuffixlist import PublicSuffixList

from homeguard.state.domain_model import ALPHABET, CODES, END, MAGIC, SCALE, START, SYMBOLS, trigram_index

ROOT = Path(__file__).resolve().parents[1]
WORD_LISTS = (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/dutch"))
DOMAIN_WEIGHT = 20  # a brand name counts as much as twenty dictionary words
HELD_OUT = 5  # every fifth shipped domain is kept back for scripts/dga_eval.py


def as_label(text: str) -> str | None:
    """A word as it would be written in a domain: lower case, accents and apostrophes
    dropped, spaces as hyphens; None if anything else is left."""
    plain = unicodedata.normalize("NFKD", text.strip().lower()).encode("ascii", "ignore").decode()
    plain = plain.replace("'", "").replace(" ", "-")
    return plain if plain and all(c in CODES for c in plain) else None


def shipped_domains() -> list[str]:
    """Every registrable domain in HomeGuard's lists, sorted, without repeats."""
    entities = yaml.safe_load((ROOT / "homeguard" / "data" / "entities.yaml").read_text("utf-8"))
    names = {d for org in entities.values() for d in org["domains"]}
    for line in (ROOT / "rules" / "lists" / "trackers.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            names.add(line.split()[0])
    psl = PublicSuffixList()
    return sorted({psl.privatesuffix(n) or n for n in names})


def split_domains(domains: list[str]) -> tuple[list[str], list[str]]:
    """(for training, kept back): every HELD_OUT-th registrable domain is kept back."""
    return (
        [d for i, d in enumerate(domains) if i % HELD_OUT],
        [d for i, d in enumerate(domains) if not i % HELD_OUT],
    )


def private_suffix_labels() -> list[str]:
    import publicsuffixlist

    text = (Path(publicsuffixlist.__file__).parent / "public_suffix_list.dat").read_text("utf-8")
    private = text.split("===BEGIN PRIVATE DOMAINS===", 1)[1]
    labels: list[str] = []
    for line in private.splitlines():
        line = line.strip().lstrip("*.!")
        if line and not line.startswith("//") and "xn--" not in line:
            labels.extend(line.split(".")[:-1])
    return labels


def count(labels: list[tuple[str, int]]) -> tuple[Counter[int], Counter[int], Counter[int]]:
    tri: Counter[int] = Counter()
    bi: Counter[int] = Counter()
    uni: Counter[int] = Counter()
    for label, weight in labels:
        codes = [CODES[c] for c in label]
        a, b = START, START
        for c in (*codes, END):
            tri[trigram_index(a, b, c)] += weight
            bi[b * SYMBOLS + c] += weight
            uni[c] += weight
            a, b = b, c
    return tri, bi, uni


def table(tri: Counter[int], bi: Counter[int], uni: Counter[int]) -> bytes:
    """Interpolated trigram probabilities (each order backs off to the one below, as in
    Witten-Bell smoothing), written as surprise in eighths of a bit, capped at 255."""
    total = sum(uni.values())
    p_uni = [(uni[c] + 1) / (total + SYMBOLS) for c in range(SYMBOLS)]
    bi_context = Counter[int]()
    bi_types = Counter[int]()
    for key, n in bi.items():
        bi_context[key // SYMBOLS] += n
        bi_types[key // SYMBOLS] += 1
    tri_context = Counter[int]()
    tri_types = Counter[int]()
    for key, n in tri.items():
        tri_context[key // SYMBOLS] += n
        tri_types[key // SYMBOLS] += 1
    out = bytearray(SYMBOLS**3)
    for a in range(SYMBOLS):
        for b in range(SYMBOLS):
            ctx = a * SYMBOLS + b
            for c in range(SYMBOLS):
                p_bi = (bi[b * SYMBOLS + c] + bi_types[b] * p_uni[c]) / (bi_context[b] + bi_types[b] or 1)
                p = (tri[ctx * SYMBOLS + c] + tri_types[ctx] * p_bi) / (
                    tri_context[ctx] + tri_types[ctx] or 1
                )
                out[trigram_index(a, b, c)] = min(255, round(-math.log2(p or 1e-9) * SCALE))
    return bytes(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "homeguard" / "data" / "domain_trigrams.bin")
    args = parser.parse_args()
    missing = [str(p) for p in WORD_LISTS if not p.exists()]
    if missing:
        print(f"missing {', '.join(missing)}: apt-get install wamerican wdutch", file=sys.stderr)
        return 2
    labels: list[tuple[str, int]] = []
    for path in WORD_LISTS:
        for word in path.read_text("utf-8").splitlines():
            label = as_label(word)
            if label:
                labels.append((label, 1))
    training, _ = split_domains(shipped_domains())
    for name in [d.split(".", 1)[0] for d in training] + private_suffix_labels():
        label = as_label(name)
        if label:
            labels.append((label, DOMAIN_WEIGHT))
    args.out.write_bytes(MAGIC + table(*count(labels)))
    print(f"{len(labels)} labels over {len(ALPHABET)} characters: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
