"""Finding, loading and overriding rule files.

Shipped rules come with HomeGuard; the user's live in their own directory
(/etc/homeguard/rules.d by default) and are never mixed with ours. A user rule with
the same id replaces the shipped one; the config can disable rules by id. When a
file breaks during a reload, its previous good rules keep running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from homeguard.events.catalog import Catalog
from homeguard.rules.lists import IndicatorList, SkippedLine, load_lists
from homeguard.rules.model import Rule, RuleError
from homeguard.rules.parser import RuleParser
from homeguard.shipped import shipped_dir

RULE_SUFFIXES = (".yml", ".yaml")


def shipped_rules_dir() -> Path:
    """The rules/ folder installed with the package (package homeguard.shipped_rules)."""
    return shipped_dir("homeguard.shipped_rules", "rules")


def rule_files(directory: Path) -> list[Path]:
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.rglob("*") if p.suffix in RULE_SUFFIXES and "lists" not in p.parts[-2:-1]
    )


DEFAULT_LEARNING_PERIOD = 7 * 86400.0  # the learning_days setting's default


@dataclass(slots=True)
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)  # active rules by id
    lists: dict[str, IndicatorList] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)
    skipped_lines: list[SkippedLine] = field(default_factory=list)
    file_rules: dict[str, list[Rule]] = field(default_factory=dict)  # every parsed rule, per file
    stamps: dict[str, float] = field(default_factory=dict)  # file -> mtime, to notice edits
    directories: list[Path] = field(default_factory=list)  # where the rules were loaded from
    list_directories: tuple[Path, ...] = ()  # where the lists were, when not beside the rules
    learning_period: float = DEFAULT_LEARNING_PERIOD  # seconds, for first_seen rules without learn_for

    def rules_for(self, event_type: str) -> list[Rule]:
        return [r for r in self.rules.values() if event_type in r.when]


def file_stamps(directories: list[Path], list_directories: tuple[Path, ...] = ()) -> dict[str, float]:
    """Modification times of every rule and list file, to notice edits and downloads."""
    stamps = {}
    list_dirs = list(list_directories) or [d / "lists" for d in directories if d.is_dir()]
    lists = [path for d in list_dirs if d.is_dir() for path in sorted(d.glob("*.txt"))]
    for directory in [*directories, None]:
        paths = rule_files(directory) if directory is not None else lists
        for path in paths:
            try:
                stamps[str(path)] = path.stat().st_mtime
            except OSError:
                continue
    return stamps


def load_ruleset(
    directories: list[Path],
    disabled: frozenset[str] = frozenset(),
    previous: RuleSet | None = None,
    list_directories: tuple[Path, ...] = (),
    catalog: Catalog | None = None,
) -> RuleSet:
    """Load every rule file of the directories, later directories overriding earlier ones.
    Lists come from `list_directories` when given (later ones replacing earlier lists of
    the same name), else from each directory's lists/ folder."""
    ruleset = RuleSet(
        stamps=file_stamps(directories, list_directories),
        directories=list(directories),
        list_directories=list_directories,
    )
    ruleset.lists = load_lists(list(list_directories) or [d / "lists" for d in directories if d.is_dir()])
    for indicators in ruleset.lists.values():
        ruleset.skipped_lines.extend(indicators.skipped)
    for directory in directories:
        seen_here: dict[str, str] = {}
        for path in rule_files(directory):
            for rule in _parse_file(path, ruleset, previous, catalog):
                if rule.id in seen_here:
                    ruleset.errors.append(
                        RuleError(
                            str(path), rule.line, 1, f"id {rule.id!r} is also used in {seen_here[rule.id]}"
                        )
                    )
                    continue
                seen_here[rule.id] = f"{path}:{rule.line}"
                ruleset.rules[rule.id] = rule  # a later directory replaces an earlier rule
    ruleset.errors.sort(key=lambda e: (e.path, e.line, e.column))
    for rule_id in list(ruleset.rules):
        if rule_id in disabled or ruleset.rules[rule_id].mode == "off":
            del ruleset.rules[rule_id]
    return ruleset


def _parse_file(
    path: Path, ruleset: RuleSet, previous: RuleSet | None, catalog: Catalog | None
) -> list[Rule]:
    parser = RuleParser(str(path), ruleset.lists, catalog)
    try:
        rules = parser.parse_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        parser.errors.append(RuleError(str(path), 1, 1, f"cannot read the file: {exc}"))
        rules = []
    ruleset.errors.extend(parser.errors)
    if parser.errors and previous is not None and str(path) in previous.file_rules:
        rules = previous.file_rules[str(path)]  # keep what ran before the bad edit
    ruleset.file_rules[str(path)] = rules
    return rules
