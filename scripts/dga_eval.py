#!/usr/bin/env python3
"""Precision and recall of the domain model (homeguard/state/domain_model.py) on a
labelled set: names from published DGA algorithms (tests/dga_families.py) against real
names HomeGuard never trained on.

    python scripts/dga_eval.py [--corpus ../shared/corpus] [--sweep]

Real names: the shipped domains the training script kept back (every fifth), and,
when ../shared/corpus is there, every registrable domain asked for, or named in a TLS
SNI or HTTP Host, in its captures (said when skipped). A name counts as flagged when its
event would carry server.domain_generated: the same enricher the daemon runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_domain_model import shipped_domains, split_domains  # noqa: E402

from homeguard.state.domain_model import GENERATED_FROM, MIN_LENGTH, looks_generated, surprise  # noqa: E402
from homeguard.state.enrichment import Enricher  # noqa: E402
from tests.dga_families import FAMILIES, wordlist_pairs  # noqa: E402

FACT_NAMES = {"dns_query": "query", "tls_client_hello": "sni", "http_request": "host"}


def corpus_names(corpus: Path) -> set[str]:
    names: set[str] = set()
    for facts in sorted((corpus / "facts").glob("*.jsonl")):
        for line in facts.read_text("utf-8").splitlines():
            fact = json.loads(line)
            value = fact.get(FACT_NAMES.get(fact["kind"], ""))
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str) and "." in name and not name.endswith(".arpa"):
                    host = name.lower().rstrip(".").split(":", 1)[0]
                    if not host.replace(".", "").isdigit():
                        names.add(host)
    return names


def model_score(enricher: Enricher, name: str) -> float | None:
    """The model alone on the name's registrable label, without HomeGuard's exemptions
    (a known organisation's names, made-up top-level domains)."""
    domain = enricher.name_facts(name).domain or name
    return surprise(domain.split(".", 1)[0])


def rates(enricher: Enricher, names: list[str], cut: float) -> tuple[int, int]:
    """(flagged by the model alone, flagged as the daemon would: server.domain_generated)."""
    model = daemon = 0
    for name in names:
        bits = model_score(enricher, name)
        model += bits is not None and bits >= cut
        daemon += looks_generated(enricher.name_facts(name).domain_surprise)
    return model, daemon


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--sweep", action="store_true", help="precision and recall at other cut-offs")
    args = parser.parse_args()
    enricher = Enricher()
    _, kept_back = split_domains(shipped_domains())
    real = {"kept-back shipped domains": sorted(set(kept_back))}
    if (args.corpus / "facts").is_dir():
        domains = {enricher.name_facts(n).domain or n: n for n in corpus_names(args.corpus)}
        real["shared corpus names"] = sorted(domains)
    else:
        print(f"no corpus at {args.corpus}: measured on the kept-back domains only")
    generated = {family: sorted(set(make())) for family, make in FAMILIES.items()}
    dictionary = Path("/usr/share/dict/american-english")
    words = sorted(
        {w.lower() for w in dictionary.read_text("utf-8").split() if w.isalpha() and 4 <= len(w) <= 7}
        if dictionary.exists()
        else set()
    )

    print(f"cut-off: {GENERATED_FROM} bits per character, labels of {MIN_LENGTH} characters or more")
    print("model: the model alone; daemon: server.domain_generated, as rules see it\n")
    print(f"{'set':32} {'names':>6} {'model':>7} {'daemon':>7}")
    totals = {"generated": [0, 0, 0], "real": [0, 0, 0]}

    def row(label: str, names: list[str], total: list[int] | None) -> None:
        model, daemon = rates(enricher, names, GENERATED_FROM)
        print(f"{label:32} {len(names):6} {model / len(names):7.1%} {daemon / len(names):7.1%}")
        if total is not None:
            total[0], total[1], total[2] = total[0] + len(names), total[1] + model, total[2] + daemon

    for family, names in generated.items():
        row("dga " + family, names, totals["generated"])
    if words:  # suppobox-style: what a character model cannot catch, so not counted
        row("two joined words (not counted)", sorted(set(wordlist_pairs(words))), None)
    for label, names in real.items():
        row(label, names, totals["real"])
        for name in names:
            bits = model_score(enricher, name)
            if bits is not None and bits >= GENERATED_FROM:
                daemon = looks_generated(enricher.name_facts(name).domain_surprise)
                print(f"    model flags {name} ({bits}); daemon: {daemon}")
    n_gen, tp_model, tp_daemon = totals["generated"]
    n_real, fp_model, fp_daemon = totals["real"]
    for label, tp, fp in (("model", tp_model, fp_model), ("daemon", tp_daemon, fp_daemon)):
        print(
            f"\n{label}: recall {tp / n_gen:.1%} ({tp}/{n_gen});"
            f" real names flagged {fp / n_real:.2%} ({fp}/{n_real});"
            f" precision {tp / max(1, tp + fp):.1%} on {n_gen} generated and {n_real} real names"
        )
    if args.sweep:
        print(f"\nthe model alone:\n{'cut':>5} {'recall':>7} {'real flagged':>13}")
        all_generated = [n for names in generated.values() for n in names]
        all_real = [n for names in real.values() for n in names]
        for step in range(40, 72, 3):
            cut = step / 10
            recall = rates(enricher, all_generated, cut)[0] / len(all_generated)
            print(f"{cut:5.1f} {recall:7.1%} {rates(enricher, all_real, cut)[0] / len(all_real):13.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
