#!/usr/bin/env python3
"""Every finding the shipped rules raise on ../shared/corpus, per category: the list a
person reviews for false positives.

    python scripts/corpus_findings.py [--corpus ../shared/corpus] [--messages]

Every capture is replayed on its own, as the network it was recorded on: the Zeek and
Suricata traces are unrelated tests, and each IoT Sentinel file is one setup of a
smart-home device, recorded on its own (sometimes with another gateway). Findings are
grouped by rule, device and key over all files. The learning period is switched off,
so new devices show (a real install learns its first week silently). Skips without a
corpus.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from homeguard.capture.pcapfile import PcapFileSource
from homeguard.clock import SystemClock
from homeguard.errors import CaptureFileError
from homeguard.findings.model import Finding
from homeguard.pipeline.core import Pipeline
from homeguard.rules.engine import RuleEngine
from homeguard.rules.loader import load_ruleset, shipped_rules_dir
from homeguard.settings import Config

SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dump")
Seen = dict[tuple[str, str, str], list[tuple[Finding, str]]]  # (rule, device, key) -> hits


def replay(paths: list[Path], seen: Seen, label: str) -> None:
    def record(finding: Finding) -> None:
        seen[(finding.rule, finding.device_mac, finding.key)].append((finding, label))

    engine = RuleEngine(load_ruleset([shipped_rules_dir()]), [record], learning=False)
    pipeline = Pipeline(Config(), None, [engine], clock=SystemClock())
    for path in paths:
        try:
            pipeline.run(PcapFileSource(str(path)), replay=True)
        except CaptureFileError as exc:
            print(f"unreadable: {exc}", file=sys.stderr)
    pipeline.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    parser.add_argument("--messages", action="store_true", help="print each finding's message")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"no corpus at {corpus}: skipped")
        return 0
    seen: Seen = defaultdict(list)
    for folder in ("zeek", "suricata-verify", "iot-sentinel"):
        for path in sorted(p for p in (corpus / folder).rglob("*") if p.suffix in SUFFIXES and p.is_file()):
            if "__MACOSX" not in path.parts:
                replay([path], seen, str(path.relative_to(corpus)))
    by_category: dict[str, list[tuple[Finding, list[str], int]]] = defaultdict(list)
    for hits in seen.values():
        first, _ = hits[0]
        labels = sorted({label for _, label in hits})
        by_category[first.category].append((first, labels, len(hits)))
    for category in sorted(by_category):
        rows = by_category[category]
        print(f"\n## {category}: {len(rows)} finding(s)")
        for finding, labels, count in sorted(rows, key=lambda r: (r[0].rule, r[1][0])):
            where = labels[0] + (f" (+{len(labels) - 1} more)" if len(labels) > 1 else "")
            print(f"- {finding.rule} [{finding.device_mac or '-'}] key={finding.key} x{count} in {where}")
            if args.messages:
                print(f"    {finding.messages['en']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
