"""The rules a configured HomeGuard runs: the shipped ones, then the user's, with the
shipped, downloaded and user's lists. The daemon, doctor and the commands all load them here."""

from __future__ import annotations

from pathlib import Path

from homeguard.events.catalog import Catalog
from homeguard.rules.feeds import lists_directory
from homeguard.rules.loader import RuleSet, load_ruleset, shipped_rules_dir
from homeguard.settings import Config
from homeguard.settings.places import fleet_directory


def rule_directories(config: Config) -> list[Path]:
    """The shipped rules, the IT department's (the fleet bundle in force, if any), then
    the household's own, each overriding a rule of the same id before it."""
    fleet = fleet_directory(config.values["db_path"]) / "current"
    return [shipped_rules_dir(), fleet / "rules", Path(config.values["rules_dir"])]


def load_rules_for(
    config: Config,
    paths: tuple[str, ...] = (),
    previous: RuleSet | None = None,
    catalog: Catalog | None = None,
) -> RuleSet:
    """The rule set the daemon would run, or the rules in `paths` (which may use the
    shipped and the user's lists). `previous` keeps the last good rules of broken files;
    `catalog` has the plugins' fields (default: the shipped ones)."""
    shipped, fleet, user = rule_directories(config)
    disabled = frozenset(config.values["disabled_rules"])
    # Lists: shipped, then downloaded (`lists update`), then the fleet's, then the
    # user's, each replacing a list of the same name from before.
    list_dirs = [shipped / "lists", lists_directory(config), fleet.parent / "lists", user / "lists"]
    if not paths:
        ruleset = load_ruleset([shipped, fleet, user], disabled, previous, tuple(list_dirs), catalog)
        ruleset.learning_period = config.values["learning_days"] * 86400.0
        for rule_id in config.values["alert_rules"]:  # record-only rules the household wants to hear of
            rule = ruleset.rules.get(rule_id)
            if rule is not None and rule.mode == "record":
                rule.mode = "alert"
        return ruleset
    beside = [Path(p).parent / "lists" if Path(p).is_file() else Path(p) / "lists" for p in paths]
    ruleset = load_ruleset([Path(p) for p in paths], disabled, None, (*list_dirs, *beside), catalog)
    ruleset.learning_period = config.values["learning_days"] * 86400.0
    return ruleset
