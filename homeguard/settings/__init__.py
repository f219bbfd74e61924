"""Every setting, declared once (ConfigValues): name, type, default and help.

Validation of config files, the `--help` of the options that mirror them, and the
reference in docs/settings.md are all derived from it.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypedDict, cast

import yaml

from homeguard.errors import ConfigError
from homeguard.settings.places import fleet_directory
from homeguard.settings.quiet_hours import QuietHours, parse_quiet_hours
from homeguard.settings.targets import Target, parse_targets


@dataclass(frozen=True, slots=True)
class About:
    """What a setting is, besides its name and type: default, help, and its checks."""

    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # For structured settings: checks the value and returns what the code uses; gets
    # where the setting is, and where each item of a list is (file:line).
    check: Callable[[Any, str, list[str]], Any] | None = None
    written_as: type | None = None  # what a config file holds, where `check` makes it something else


def check_macs(value: Any, where: str, _items: list[str]) -> list[str]:
    return _macs(value, where)


class ConfigValues(TypedDict):
    """Every setting, declared once: its name, the type the code gets (mypy checks every
    `config.values["name"]`), and, in About, default, help and checks. SETTINGS, the
    config file's validation, `homeguard settings` and docs/settings.md derive from it."""

    interface: Annotated[
        str | None, About(None, "Interface to capture on. Empty: the one with the default route.")
    ]
    bpf_filter: Annotated[
        str | None,
        About(None, "A kernel BPF filter in tcpdump syntax, such as 'not port 22'. Empty: every packet."),
    ]
    promiscuous: Annotated[
        bool,
        About(
            True,
            "Put the interface in promiscuous mode, to see traffic between other devices on a mirror port.",
        ),
    ]
    flow_export_listen: Annotated[
        str | None,
        About(
            None,
            "Collect the router's flow export (NetFlow v5, v9 or IPFIX over UDP) on HOST:PORT, "
            "such as 0.0.0.0:2055: flows HomeGuard cannot see itself (docs/sources.md). Empty: off.",
        ),
    ]
    dns_log_files: Annotated[
        list[str],
        About(
            [],
            "Query logs of the household's resolver to follow: dnsmasq or Pi-hole with log-queries, "
            "unbound with log-queries and log-replies, AdGuard Home's querylog.json. Each lookup becomes a DNS event for the device "
            "that asked (docs/sources.md).",
        ),
    ]
    intercept_devices: Annotated[
        list[str],
        About(
            [],
            "Opt-in interception on a plain switch port: the MACs of the devices whose traffic to the "
            "gateway should pass through this machine (HomeGuard answers ARP for the gateway to them "
            "alone, and forwards). Read docs/sources.md first. Empty: off.",
        ),
    ]
    intercept_gateway: Annotated[
        str | None,
        About(None, "The gateway's IPv4 address for interception. Empty: the default route's."),
    ]
    metrics_per_device: Annotated[
        bool,
        About(
            False,
            "Add per-device series to the Prometheus metrics, labelled with each device's MAC and name "
            "(data sent today, open findings). Off: no label identifies anyone in the household.",
        ),
    ]
    mqtt_url: Annotated[
        str | None,
        About(
            None,
            "Publish devices, findings and the household's state to Home Assistant through this MQTT "
            "broker: mqtt://user:password@host:1883 or mqtts://... (docs/home-assistant.md). The password "
            "is masked in logs. Empty: off.",
        ),
    ]
    mqtt_ca_file: Annotated[
        str | None,
        About(None, "The CA certificate to check an mqtts:// broker with. Empty: the system's CAs."),
    ]
    mqtt_discovery_prefix: Annotated[
        str, About("homeassistant", "Home Assistant's MQTT discovery prefix (its default is homeassistant).")
    ]
    mqtt_topic: Annotated[str, About("homeguard", "The topic HomeGuard's states and events go under.")]
    metrics_listen: Annotated[
        str | None,
        About(
            None,
            "Serve Prometheus metrics at http://HOST:PORT/metrics, such as 127.0.0.1:9847 "
            "(docs/metrics.md). No label names a device or a domain. Empty: off.",
        ),
    ]
    pihole_db: Annotated[
        str | None,
        About(
            None,
            "Pi-hole's query database to read, opened read-only (/etc/pihole/pihole-FTL.db): each "
            "lookup becomes a DNS event for the device that asked (docs/sources.md). Empty: off.",
        ),
    ]
    eve_files: Annotated[
        list[str],
        About(
            [],
            "Suricata EVE JSON logs to follow (eve.json): its flow, dns, tls, http and dhcp records "
            "become HomeGuard's events for the household's devices (docs/sources.md).",
        ),
    ]
    capture_ring_mb: Annotated[
        int,
        About(
            16,
            "Memory-mapped ring (TPACKET_V3) for live capture, in MiB: frames arrive a block at a time, "
            "without a system call each. With capture workers it is shared among them (at least 4 MiB "
            "each), as the packets are. 0: a plain socket with socket_buffer_mb.",
            minimum=0,
        ),
    ]
    capture_workers: Annotated[
        int | None,
        About(
            None,
            "Capture worker processes: each reads its share of the flows from a ring of its own "
            "(its share of capture_ring_mb) and sends events to the daemon, which keeps devices, rules and "
            "alerts. Empty: one per core, minus one for the daemon with more than two cores, none on a "
            "single core, and no more than fit in a quarter of the memory or systemd's MemoryMax "
            "(docs/performance.md). 0: capture in the daemon's own process.",
            minimum=0,
            maximum=64,
        ),
    ]
    socket_buffer_mb: Annotated[
        int,
        About(
            8,
            "Kernel receive buffer of the plain capture socket (capture_ring_mb 0, or no ring), in MiB; "
            "bursts beyond it are dropped (and counted).",
            minimum=1,
        ),
    ]
    db_path: Annotated[
        str | None,
        About(
            None,
            "The SQLite database. Empty: $STATE_DIRECTORY or /var/lib/homeguard as a service, else ~/.local/share/homeguard.",
        ),
    ]
    flow_idle_timeout: Annotated[
        float, About(120.0, "Seconds without a packet after which a flow counts as ended.", minimum=1)
    ]
    max_flows: Annotated[
        int,
        About(
            65536,
            "Flows kept in memory at once; when full, the oldest are ended and written (about 400 bytes each).",
            minimum=16,
        ),
    ]
    max_devices: Annotated[
        int,
        About(
            4096,
            "Devices kept in memory at once; the longest unseen go first (their rows stay in the database).",
            minimum=16,
        ),
    ]
    max_server_names: Annotated[
        int, About(65536, "IP-to-name entries learned from DNS answers (about 200 bytes each).", minimum=16)
    ]
    max_pending_dns: Annotated[int, About(4096, "DNS queries waiting for their response.", minimum=16)]
    flush_interval: Annotated[
        float,
        About(
            5.0,
            "Seconds between database writes. Longer spares SD cards; a crash loses at most this much.",
            minimum=0.1,
        ),
    ]
    flush_max_rows: Annotated[
        int, About(5000, "Write to the database early once this many rows wait.", minimum=1)
    ]
    stats_interval: Annotated[
        float,
        About(60.0, "Seconds between capture statistics rows (packets, bytes, kernel drops).", minimum=1),
    ]
    rules_dir: Annotated[
        str,
        About(
            "/etc/homeguard/rules.d",
            "Your own rules and lists (lists/NAME.txt), kept apart from the shipped ones. A rule with a shipped rule's id replaces it.",
        ),
    ]
    disabled_rules: Annotated[list[str], About([], "Ids of rules to switch off, such as [new-device].")]
    learning_days: Annotated[
        float,
        About(
            7.0,
            "Days HomeGuard learns the household before it reports new devices, companies and countries (every first_seen rule without a learn_for of its own). 0: report from the start.",
            minimum=0,
        ),
    ]
    alert_rules: Annotated[
        list[str],
        About(
            [],
            "Ids of record-only rules that should alert too, such as [new-company, new-country] (a device sending data to a company, or to a country outside the EU, for the first time).",
        ),
    ]
    household_resolvers: Annotated[
        list[str],
        About(
            [],
            "The household's DNS servers, such as [192.168.1.1]. HomeGuard also learns them from DHCP; a DNS query sent elsewhere gets dns.resolver_known: false.",
        ),
    ]
    dhcp_servers: Annotated[
        list[str],
        About(
            [],
            "The household's DHCP servers, such as [192.168.1.1]. Empty: the first server seen to acknowledge a lease; any other server's offers get dhcp.server_known: false (rogue DHCP).",
        ),
    ]
    ipv6_routers: Annotated[
        list[str],
        About(
            [],
            "MACs of the household's IPv6 routers. Empty: the first router seen to advertise; advertisements from any other get ra.router_known: false.",
        ),
    ]
    lists_dir: Annotated[
        str | None,
        About(
            None, "Where `homeguard lists update` keeps downloaded lists. Empty: lists/ beside the database."
        ),
    ]
    threat_lists: Annotated[
        list[str],
        About(
            [
                "https://urlhaus.abuse.ch/downloads/hostfile/",
                "https://feodotracker.abuse.ch/downloads/ipblocklist.txt",
                "https://www.spamhaus.org/drop/drop.txt",
            ],
            "HTTPS URLs of threat lists (domains, IPs, networks) that `homeguard lists update` merges into the threats list. Licences: docs/lists.md.",
        ),
    ]
    tracker_lists: Annotated[
        list[str],
        About(
            [],
            "HTTPS URLs of extra tracker lists (hosts files, plain domains or ||domain^ adblock rules), merged into trackers-external, such as https://easylist.to/easylist/easyprivacy.txt.",
        ),
    ]
    address_owners_url: Annotated[
        str | None,
        About(
            None,
            "An HTTPS URL of an IP-to-AS table (tab-separated ranges: first-ip, last-ip, AS number, country, description; gzip allowed) that `homeguard lists update` fetches into address-owners.tsv, to attribute flows that have no name. Empty: none is fetched. Sources and licences: docs/lists.md.",
        ),
    ]
    language: Annotated[str, About("en", "The language of alerts.", choices=("en", "nl"))]
    notify: Annotated[
        list[Target],
        About(
            [],
            "Where alerts go: a list of targets, each with name: and an apprise url:, and optionally min_severity: (default low), tags: [...], mode: push or digest, digest: hourly, daily or weekly, max_pushes_per_day: (default 20; beyond it, alerts wait for the digest). See docs/alerts.md.",
            check=parse_targets,
        ),
    ]
    quiet_hours: Annotated[
        QuietHours | None,
        About(
            None,
            "Hours without pushes, such as 22:00-07:00 (local time); critical alerts still go. Empty: none.",
            check=parse_quiet_hours,
            written_as=str,
        ),
    ]
    web_listen: Annotated[
        str,
        About(
            "auto",
            "Where homeguard run serves the dashboard (docs/web.md): auto (the capture interface's LAN address, port 8780), an ADDR:PORT on the LAN, or never.",
        ),
    ]
    web_tls: Annotated[
        bool,
        About(
            False,
            "Serve the dashboard over HTTPS: with web_tls_certificate and web_tls_key if set, else with a self-signed certificate HomeGuard makes beside the database (its fingerprint is logged; browsers warn about it once).",
        ),
    ]
    web_tls_certificate: Annotated[
        str | None,
        About(None, "A PEM certificate (chain) for the dashboard's HTTPS, such as one from your own CA."),
    ]
    web_tls_key: Annotated[str | None, About(None, "The PEM private key of web_tls_certificate.")]
    report_email: Annotated[
        str,
        About(
            "never",
            "Send the data report (docs/report.md) by e-mail, daily or weekly, to every notify target with a mailto:// or mailtos:// URL, at digest_hour (weekly: on Mondays). never: not at all.",
            choices=("never", "daily", "weekly"),
        ),
    ]
    digest_hour: Annotated[
        int,
        About(
            8,
            "The hour (local time, 0-23) daily and weekly digests go out; weekly ones on Mondays.",
            minimum=0,
            maximum=23,
        ),
    ]
    metadata_only: Annotated[
        list[str],
        About(
            [],
            "MACs of devices for which HomeGuard keeps no DNS log and no server names (only who talked to which address, and findings), for the household member who asks. Such as [3c:22:fb:12:34:56].",
            check=check_macs,
        ),
    ]
    retention_dns_days: Annotated[float, About(30.0, "Days the DNS log is kept.", minimum=0.01)]
    retention_flows_days: Annotated[
        float,
        About(
            7.0,
            "Days flows are kept one by one; older ones are rolled up into hourly totals (flow_hours).",
            minimum=0.01,
        ),
    ]
    retention_flow_hours_days: Annotated[
        float, About(365.0, "Days the hourly flow totals are kept.", minimum=0.01)
    ]
    retention_findings_days: Annotated[
        float, About(365.0, "Days a finding is kept after it was last seen.", minimum=0.01)
    ]
    retention_ledger_days: Annotated[
        float,
        About(
            365.0, "Days the data ledger (per device, organisation, country and day) is kept.", minimum=0.01
        ),
    ]
    retention_outbox_days: Annotated[
        float, About(90.0, "Days sent or failed alerts stay in the outbox.", minimum=0.01)
    ]
    retention_stats_days: Annotated[
        float, About(30.0, "Days capture and health statistics are kept.", minimum=0.01)
    ]
    max_db_mb: Annotated[
        int,
        About(
            512,
            "The database's size cap, in MiB. Above it the oldest DNS log and flow rows go first.",
            minimum=1,
        ),
    ]
    retention_interval: Annotated[
        float, About(600.0, "Seconds between retention and size-cap passes in the daemon.", minimum=1)
    ]
    fleet_work_devices: Annotated[
        list[str],
        About(
            [],
            "For an IT department (docs/fleet.md): the work devices, by MAC or by HomeGuard's device identity (homeguard devices shows it). Exports carry findings about these devices only; attacks on the home network go out without naming any other device.",
        ),
    ]
    fleet_site: Annotated[
        str | None,
        About(None, "A label for this sensor in the IT department's SIEM (labels.site), such as home-0421."),
    ]
    fleet_organization: Annotated[
        str | None, About(None, "The IT department's organisation, for exports (organization.name).")
    ]
    fleet_url: Annotated[
        str | None,
        About(
            None,
            "An HTTPS URL of the IT department's signed bundle (rules, lists and settings), fetched by homeguard fleet pull. Empty: none.",
        ),
    ]
    fleet_public_key: Annotated[
        str | None,
        About(
            None,
            "The IT department's Ed25519 public key in minisign's format (the base64 line of its .pub file); a bundle must carry its signature.",
        ),
    ]
    fleet_ca_file: Annotated[
        str | None,
        About(
            None, "A PEM file of the CA that signed fleet_url's HTTPS certificate. Empty: the system's CAs."
        ),
    ]
    export_ecs_file: Annotated[
        str | None,
        About(
            None,
            "Write the exported findings and health as ECS JSON, one document a line, to this file (for Filebeat, Elastic Agent, Vector, Fluent Bit). Empty: no file.",
        ),
    ]
    export_ecs_max_mb: Annotated[
        int, About(50, "Rotate the ECS file when it reaches this many MiB.", minimum=1)
    ]
    export_ecs_files_kept: Annotated[
        int, About(5, "Rotated ECS files kept (FILE.1 is the newest).", minimum=1, maximum=100)
    ]
    export_syslog: Annotated[
        str | None,
        About(
            None,
            "Send the exported findings and health by syslog (RFC 5424) to tls://HOST:PORT (RFC 5425, usually 6514), tcp://HOST:PORT or udp://HOST:PORT. Empty: none.",
        ),
    ]
    export_syslog_format: Annotated[
        str,
        About(
            "ecs",
            "What each syslog message carries: ecs (an ECS JSON document) or cef (ArcSight CEF, for Splunk, QRadar, ArcSight).",
            choices=("ecs", "cef"),
        ),
    ]
    export_syslog_ca: Annotated[
        str | None,
        About(
            None,
            "A PEM file of the CA that signed the syslog server's certificate (tls://). Empty: the system's CAs.",
        ),
    ]
    export_min_severity: Annotated[
        str,
        About(
            "low",
            "The lowest severity of the findings exported.",
            choices=("info", "low", "medium", "high", "critical"),
        ),
    ]
    export_health_minutes: Annotated[
        float,
        About(
            15.0,
            "Minutes between the sensor's health documents in the exports (capture loss, visibility, version).",
            minimum=1,
        ),
    ]
    log_level: Annotated[
        str, About("info", "How much to log.", choices=("debug", "info", "warning", "error"))
    ]
    events_file: Annotated[
        str | None,
        About(
            None,
            "Also write every event to this file, one JSON object per line ('-' for stdout), as `--events` does. For debugging; it grows without bound.",
        ),
    ]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting as the validation and the docs use it, derived from ConfigValues."""

    name: str
    type: type  # what a config file's value must be: str, int, float, bool or list
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    check: Callable[[Any, str, list[str]], Any] | None = None


def _runtime_type(annotation: Any) -> type:
    """str for `str | None`, list for `list[str]`, and so on."""
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    origin = typing.get_origin(annotation)
    return origin if isinstance(origin, type) else annotation if isinstance(annotation, type) else object


def _declared() -> tuple[Setting, ...]:
    out = []
    for name, hint in typing.get_type_hints(ConfigValues, include_extras=True).items():
        annotation, about = typing.get_args(hint)
        out.append(
            Setting(
                name,
                about.written_as or _runtime_type(annotation),
                about.default,
                about.help,
                about.choices,
                about.minimum,
                about.maximum,
                about.check,
            )
        )
    return tuple(out)


SETTINGS: tuple[Setting, ...] = _declared()
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


def default_values() -> ConfigValues:
    return cast(ConfigValues, {s.name: copy.copy(s.default) for s in SETTINGS})


@dataclass(slots=True)
class Config:
    """Values for every setting, typed: `config.values["name"]`. `source` names where
    each non-default came from."""

    values: ConfigValues = field(default_factory=default_values)
    source: dict[str, str] = field(default_factory=dict)

    def value(self, name: str) -> object:
        """A setting by a name known only at run time (reload compares them all)."""
        return cast(Mapping[str, object], self.values)[name]

    def set(self, name: str, value: Any, where: str, item_wheres: list[str] | None = None) -> None:
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"{where}: unknown setting {name!r}{_did_you_mean(name)}")
        values = cast(dict[str, Any], self.values)
        if setting.check is not None:
            values[name] = setting.check(value, where, item_wheres or [])
        else:
            values[name] = _checked(setting, value, where)
        self.source[name] = where

    def set_text(self, name: str, text: str, where: str) -> None:
        """A setting as typed into a form: a number is read as one (a decimal comma too)."""
        setting = SETTINGS_BY_NAME.get(name)
        value: Any = text or None
        if text and setting is not None and setting.type in (int, float):
            with contextlib.suppress(ValueError):  # else the check below says what it must be
                value = setting.type(text.replace(",", "."))
        self.set(name, value, where)


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


TYPE_WORDS = {str: "a text", int: "a whole number", float: "a number", bool: "true or false"}


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
        raise ConfigError(f"{where}: {setting.name} must be {TYPE_WORDS[expected]}, not {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{where}: {setting.name} must be one of {', '.join(setting.choices)}")
    if setting.minimum is not None and value < setting.minimum:
        raise ConfigError(f"{where}: {setting.name} must be at least {setting.minimum}")
    if setting.maximum is not None and value > setting.maximum:
        raise ConfigError(f"{where}: {setting.name} must be at most {setting.maximum}")
    return value


def load_config(path: str | Path | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """The defaults, overridden by a YAML file of `setting: value` lines, then by command-line
    options (`overrides`; None means the option was not given). Every error in the file
    is reported at once, one per line, each with its file:line."""
    config, errors = read_config(path)
    if errors:
        raise ConfigError("\n".join(str(e) for e in errors))
    for name, value in (overrides or {}).items():
        if value is not None:
            config.set(name, value, f"--{name.replace('_', '-')}")
    overlay = fleet_directory(config.values["db_path"]) / "current" / "config.yaml"
    if overlay.exists():
        apply_fleet_overlay(config, overlay)
    return config


# What an IT department's bundle may set (docs/fleet.md): its exports and work devices,
# and which rules run. Never where HomeGuard captures or stores, the household's alerts,
# its dashboard, or whom the bundles must come from.
FLEET_MAY_SET = ("fleet_work_devices", "fleet_site", "fleet_organization", "disabled_rules")


def fleet_may_set(name: str) -> bool:
    return name in FLEET_MAY_SET or name.startswith("export_")


def apply_fleet_overlay(config: Config, path: Path) -> None:
    """The settings of the fleet bundle in force, over the config file's."""
    overlay, errors = read_config(path)
    errors += [
        ConfigError(
            f"{where}: a fleet bundle may not set {name} (only {', '.join(FLEET_MAY_SET)} and export_*)"
        )
        for name, where in overlay.source.items()
        if not fleet_may_set(name)
    ]
    if errors:
        raise ConfigError("\n".join(str(e) for e in errors))
    values = cast(dict[str, Any], config.values)
    for name, where in overlay.source.items():
        values[name] = overlay.values[name]  # type: ignore[literal-required]
        config.source[name] = where


MAX_CONFIG_BYTES = 1 << 20
MAX_NESTING = 20  # a config is at most a list of mappings of lists: 3 levels


def read_config(path: str | Path | None) -> tuple[Config, list[ConfigError]]:
    """The config from a file, and every error in it (the settings without one apply)."""
    config = Config()
    if path is None:
        return config, []
    try:
        root = _compose(path)
    except ConfigError as exc:
        return config, [exc]
    if root is None:
        return config, []
    if not isinstance(root, yaml.MappingNode):
        return config, [ConfigError(f"{path}:1: the config must be a mapping of 'setting: value' lines")]
    errors = []
    for key_node, value_node in root.value:
        where = f"{path}:{key_node.start_mark.line + 1}"
        value = _value(value_node)
        items = value_node.value if isinstance(value_node, yaml.SequenceNode) else []
        item_wheres = [f"{path}:{item.start_mark.line + 1}" for item in items]
        try:
            config.set(str(key_node.value), value, where, item_wheres)
        except ConfigError as exc:
            errors.append(exc)
    return config, errors


def _value(node: yaml.Node) -> Any:
    """The Python value of a composed node (an empty `notify:` is None, not an error)."""
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _compose(path: str | Path) -> yaml.Node | None:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: {len(data):,} bytes is no config file (at most {MAX_CONFIG_BYTES:,})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from exc
    depth = _nesting(text)
    if depth > MAX_NESTING:
        raise ConfigError(
            f"{path}: nested {depth} levels deep; a config needs at most 3 (see docs/settings.md)"
        )
    try:
        return yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{at}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def _nesting(text: str) -> int:
    """How deep brackets and indentation go, roughly: enough to refuse a file that would
    send the YAML parser into thousands of levels of recursion."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    indent = max((len(line) - len(line.lstrip(" -")) for line in text.splitlines()), default=0)
    return max(deepest, indent // 2)


def settings_markdown() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `homeguard/settings/__init__.py` by `homeguard settings --markdown`.",
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
