"""Every setting, declared once: name, type, default and help.

Validation of config files, the `--help` of the options that mirror them, and the
reference in docs/settings.md are all derived from SETTINGS.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from homeguard.errors import ConfigError
from homeguard.settings.quiet_hours import parse_quiet_hours
from homeguard.settings.targets import parse_targets


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # For structured settings: checks the value and returns what the code uses; gets
    # where the setting is, and where each item of a list is (file:line).
    check: Callable[[Any, str, list[str]], Any] | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("interface", str, None, "Interface to capture on. Empty: the one with the default route."),
    Setting(
        "bpf_filter",
        str,
        None,
        "A kernel BPF filter in tcpdump syntax, such as 'not port 22'. Empty: every packet.",
    ),
    Setting(
        "promiscuous",
        bool,
        True,
        "Put the interface in promiscuous mode, to see traffic between other devices on a mirror port.",
    ),
    Setting(
        "socket_buffer_mb",
        int,
        8,
        "Kernel receive buffer for the capture socket, in MiB; bursts beyond it are dropped (and counted).",
        minimum=1,
    ),
    Setting(
        "db_path",
        str,
        None,
        "The SQLite database. Empty: $STATE_DIRECTORY or /var/lib/homeguard as a service, else ~/.local/share/homeguard.",
    ),
    Setting(
        "flow_idle_timeout",
        float,
        120.0,
        "Seconds without a packet after which a flow counts as ended.",
        minimum=1,
    ),
    Setting(
        "max_flows",
        int,
        65536,
        "Flows kept in memory at once; when full, the oldest are ended and written (about 400 bytes each).",
        minimum=16,
    ),
    Setting(
        "max_devices",
        int,
        4096,
        "Devices kept in memory at once; the longest unseen go first (their rows stay in the database).",
        minimum=16,
    ),
    Setting(
        "max_server_names",
        int,
        65536,
        "IP-to-name entries learned from DNS answers (about 200 bytes each).",
        minimum=16,
    ),
    Setting("max_pending_dns", int, 4096, "DNS queries waiting for their response.", minimum=16),
    Setting(
        "flush_interval",
        float,
        5.0,
        "Seconds between database writes. Longer spares SD cards; a crash loses at most this much.",
        minimum=0.1,
    ),
    Setting("flush_max_rows", int, 5000, "Write to the database early once this many rows wait.", minimum=1),
    Setting(
        "stats_interval",
        float,
        60.0,
        "Seconds between capture statistics rows (packets, bytes, kernel drops).",
        minimum=1,
    ),
    Setting(
        "rules_dir",
        str,
        "/etc/homeguard/rules.d",
        "Your own rules and lists (lists/NAME.txt), kept apart from the shipped ones. A rule with a shipped rule's id replaces it.",
    ),
    Setting("disabled_rules", list, [], "Ids of rules to switch off, such as [new-device]."),
    Setting(
        "household_resolvers",
        list,
        [],
        "The household's DNS servers, such as [192.168.1.1]. HomeGuard also learns them from DHCP; "
        "a DNS query sent elsewhere gets dns.resolver_known: false.",
    ),
    Setting(
        "dhcp_servers",
        list,
        [],
        "The household's DHCP servers, such as [192.168.1.1]. Empty: the first server seen to acknowledge a lease; "
        "any other server's offers get dhcp.server_known: false (rogue DHCP).",
    ),
    Setting(
        "ipv6_routers",
        list,
        [],
        "MACs of the household's IPv6 routers. Empty: the first router seen to advertise; "
        "advertisements from any other get ra.router_known: false.",
    ),
    Setting(
        "lists_dir",
        str,
        None,
        "Where `homeguard lists update` keeps downloaded lists. Empty: lists/ beside the database.",
    ),
    Setting(
        "threat_lists",
        list,
        [
            "https://urlhaus.abuse.ch/downloads/hostfile/",
            "https://feodotracker.abuse.ch/downloads/ipblocklist.txt",
            "https://www.spamhaus.org/drop/drop.txt",
        ],
        "HTTPS URLs of threat lists (domains, IPs, networks) that `homeguard lists update` merges "
        "into the threats list. Licences: docs/lists.md.",
    ),
    Setting(
        "tracker_lists",
        list,
        [],
        "HTTPS URLs of extra tracker lists (hosts files, plain domains or ||domain^ adblock rules), "
        "merged into trackers-external, such as https://easylist.to/easylist/easyprivacy.txt.",
    ),
    Setting("language", str, "en", "The language of alerts.", choices=("en", "nl")),
    Setting(
        "notify",
        list,
        [],
        "Where alerts go: a list of targets, each with name: and an apprise url:, and optionally "
        "min_severity: (default low), tags: [...], mode: push or digest, digest: hourly, daily or weekly, "
        "max_pushes_per_day: (default 20; beyond it, alerts wait for the digest). See docs/alerts.md.",
        check=parse_targets,
    ),
    Setting(
        "quiet_hours",
        str,
        None,
        "Hours without pushes, such as 22:00-07:00 (local time); critical alerts still go. Empty: none.",
        check=parse_quiet_hours,
    ),
    Setting(
        "digest_hour",
        int,
        8,
        "The hour (local time, 0-23) daily and weekly digests go out; weekly ones on Mondays.",
        minimum=0,
        maximum=23,
    ),
    Setting(
        "metadata_only",
        list,
        [],
        "MACs of devices for which HomeGuard keeps no DNS log and no server names (only who talked to which "
        "address, and findings), for the household member who asks. Such as [3c:22:fb:12:34:56].",
        check=lambda value, where, _items: _macs(value, where),
    ),
    Setting("retention_dns_days", float, 30.0, "Days the DNS log is kept.", minimum=0.01),
    Setting(
        "retention_flows_days",
        float,
        7.0,
        "Days flows are kept one by one; older ones are rolled up into hourly totals (flow_hours).",
        minimum=0.01,
    ),
    Setting("retention_flow_hours_days", float, 365.0, "Days the hourly flow totals are kept.", minimum=0.01),
    Setting(
        "retention_findings_days",
        float,
        365.0,
        "Days a finding is kept after it was last seen.",
        minimum=0.01,
    ),
    Setting(
        "retention_outbox_days", float, 90.0, "Days sent or failed alerts stay in the outbox.", minimum=0.01
    ),
    Setting(
        "retention_stats_days", float, 30.0, "Days capture and health statistics are kept.", minimum=0.01
    ),
    Setting(
        "max_db_mb",
        int,
        512,
        "The database's size cap, in MiB. Above it the oldest DNS log and flow rows go first.",
        minimum=1,
    ),
    Setting(
        "retention_interval",
        float,
        600.0,
        "Seconds between retention and size-cap passes in the daemon.",
        minimum=1,
    ),
    Setting("log_level", str, "info", "How much to log.", choices=("debug", "info", "warning", "error")),
    Setting(
        "events_file",
        str,
        None,
        "Also write every event to this file, one JSON object per line ('-' for stdout), as `--events` does. For debugging; it grows without bound.",
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(slots=True)
class Config:
    """Values for every setting; `source` names where each non-default came from."""

    values: dict[str, Any] = field(default_factory=lambda: {s.name: s.default for s in SETTINGS})
    source: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def set(self, name: str, value: Any, where: str, item_wheres: list[str] | None = None) -> None:
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{where}: unknown setting {name!r}{_did_you_mean(name)}")
        if setting.check is not None:
            self.values[name] = setting.check(value, where, item_wheres or [])
        else:
            self.values[name] = _checked(setting, value, where)
        self.source[name] = where


def _macs(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}", v) for v in value
    ):
        raise ConfigError(
            f"{where}: metadata_only must be a list of MAC addresses, such as [3c:22:fb:12:34:56]"
        )
    return [v.lower() for v in value]


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, SETTINGS_BY_NAME, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _checked(setting: Setting, value: Any, where: str) -> Any:
    if value is None or value == "":
        if setting.default is None:
            return None
        raise ConfigError(f"{where}: {setting.name} needs a value (default: {setting.default!r})")
    expected = setting.type
    if expected is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {setting.name} must be a list of texts, such as [a, b]")
        return value
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(f"{where}: {setting.name} must be {expected.__name__}, not {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{where}: {setting.name} must be one of {', '.join(setting.choices)}")
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where}: {setting.name} must be at least {setting.minimum}")
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where}: {setting.name} must be at most {setting.maximum}")
    return value


def load_config(path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """The defaults, overridden by a YAML file of `setting: value` lines, then by command-line
    options (`overrides`; None means the option was not given)."""
    config = _from_file(path)
    for name, value in (overrides or {}).items():
        if value is not None:
            config.set(name, value, f"--{name.replace('_', '-')}")
    return config


def _from_file(path: str | Path | None) -> Config:
    config = Config()
    if path is None:
        return config
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        return config
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{path}:1: the config must be a mapping of 'setting: value' lines")
    for key_node, value_node in root.value:
        where = f"{path}:{key_node.start_mark.line + 1}"
        value = yaml.safe_load(yaml.serialize(value_node))
        items = value_node.value if isinstance(value_node, yaml.SequenceNode) else []
        item_wheres = [f"{path}:{item.start_mark.line + 1}" for item in items]
        config.set(str(key_node.value), value, where, item_wheres)
    return config


def settings_markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `homeguard/settings.py` by `homeguard settings --markdown`.",
        "Put any of these in a YAML file and pass it with `--config FILE`.",
        "",
        "| setting | type | default | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        default = "(empty)" if s.default is None else f"`{s.default}`"
        extra = f" One of: {', '.join(s.choices)}." if s.choices else ""
        lines.append(f"| `{s.name}` | {s.type.__name__} | {default} | {s.help}{extra} |")
    return "\n".join(lines) + "\n"
