"""`homeguard doctor`: what is wrong, in words a non-technical reader can act on.

Each check says OK, PROBLEM or NOTE, one sentence, what to do, and the figures behind
it. The visibility check listens for a few seconds and counts who talks to whom: a
port that sees unicast between other devices is a mirror port (or the router); one
that sees only broadcast cannot see most of what matters.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from homeguard.capture.live import interface_mac, machine_addresses
from homeguard.capture.source import Frame
from homeguard.clock import Clock
from homeguard.compiled import compilable_modules, compiled_modules
from homeguard.decode.addresses import is_unicast_mac
from homeguard.decode.packet import PROTO_UDP, decode_frame
from homeguard.errors import HomeGuardError
from homeguard.settings import Config
from homeguard.state.visibility import BROADCAST_ONLY, NOTHING, visibility_verdict

DEFAULT_PORTS = {"json": 80, "jsons": 443, "xml": 80, "xmls": 443, "mailto": 25, "mailtos": 587, "ntfy": 80}
PORT_DNS = 53


@dataclass(slots=True)
class Check:
    name: str
    status: str  # OK, PROBLEM or NOTE
    summary: str
    advice: str = ""
    figures: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Traffic:
    """What a few seconds of capture showed."""

    seconds: float = 0.0
    frames: int = 0
    group: int = 0  # broadcast and multicast
    own: int = 0  # to or from this machine
    between_others: int = 0  # unicast between two other devices: what a mirror port adds
    sent: dict[bytes, int] = field(default_factory=lambda: defaultdict(int))
    received: dict[bytes, int] = field(default_factory=lambda: defaultdict(int))
    dns: dict[bytes, int] = field(default_factory=lambda: defaultdict(int))


def count_frames(
    frames: list[Frame], own_mac: bytes | None, own_ips: frozenset[bytes] = frozenset()
) -> Traffic:
    """Who talks to whom. A frame with this machine's MAC but neither of its addresses is
    one it forwards as the router, and counts as traffic between others."""
    traffic = Traffic(frames=len(frames))
    for _ts, linktype, data, wirelen in frames:
        pkt = decode_frame(linktype, data, wirelen)
        if pkt is None or pkt.src_mac is None or pkt.dst_mac is None:
            continue
        if not is_unicast_mac(pkt.dst_mac):
            traffic.group += 1
        elif own_mac in (pkt.src_mac, pkt.dst_mac) and (
            not own_ips or pkt.src_ip in own_ips or pkt.dst_ip in own_ips
        ):
            traffic.own += 1
        else:
            traffic.between_others += 1
            traffic.sent[pkt.src_mac] += 1
            traffic.received[pkt.dst_mac] += 1
        if pkt.proto == PROTO_UDP and PORT_DNS in (pkt.sport, pkt.dport):
            client = pkt.src_mac if pkt.dport == PORT_DNS else pkt.dst_mac
            traffic.dns[client] += 1
    return traffic


def listen(interface: str, seconds: float, clock: Clock, bpf_filter: str | None = None) -> list[Frame]:
    from homeguard.capture.live import LiveSource

    source = LiveSource(interface, bpf_filter, promiscuous=True, clock=clock)
    frames: list[Frame] = []
    deadline = clock.monotonic() + seconds
    try:
        for frame in source.frames():
            if frame is not None:
                frames.append(frame)
            if clock.monotonic() >= deadline:
                break
    finally:
        source.close()
    return frames


def check_link(interface: str) -> Check:
    base = Path(f"/sys/class/net/{interface}")
    if not base.exists():
        return Check(
            "Interface",
            "PROBLEM",
            f"There is no network interface called {interface}.",
            "Pick one with -i; `ip link` lists them.",
        )
    state = (base / "operstate").read_text().strip() if (base / "operstate").exists() else "unknown"
    if state == "down":
        return Check(
            "Interface",
            "PROBLEM",
            f"{interface} is down: no cable, or not switched on.",
            f"Plug in the cable, or run `ip link set {interface} up`.",
            [f"operstate={state}"],
        )
    return Check("Interface", "OK", f"{interface} is up.", figures=[f"operstate={state}"])


def check_visibility(traffic: Traffic, interface: str) -> Check:
    figures = [
        f"{traffic.frames} frames in {traffic.seconds:.0f} s",
        f"{traffic.between_others} unicast between other devices",
        f"{traffic.group} broadcast or multicast",
        f"{traffic.own} to or from this machine",
    ]
    verdict = visibility_verdict(traffic.between_others, traffic.group + traffic.own)
    if verdict == NOTHING:
        return Check(
            "Visibility",
            "PROBLEM",
            f"HomeGuard saw no traffic at all on {interface}.",
            "Check the cable and that this is the interface facing your network.",
            figures,
        )
    if verdict == BROADCAST_ONLY:
        return Check(
            "Visibility",
            "PROBLEM",
            "HomeGuard only sees broadcast traffic: connect it to a mirror port, or run it on the router.",
            "On a normal switch port HomeGuard sees announcements, not what devices send to the internet. "
            "Use a switch with port mirroring (SPAN) and plug HomeGuard into the mirror port, or install it "
            "on the router itself. If the router can export flows (NetFlow or IPFIX: OpenWrt's softflowd, "
            "pfSense, OPNsense, MikroTik), point it at this machine and set flow_export_listen "
            "(docs/sources.md).",
            figures,
        )
    devices = len(set(traffic.sent) | set(traffic.received))
    return Check(
        "Visibility",
        "OK",
        f"HomeGuard sees the traffic between other devices ({devices} devices).",
        figures=figures,
    )


def check_devices(traffic: Traffic) -> Check:
    devices = sorted(set(traffic.sent) | set(traffic.received))
    if not devices:
        return Check("Devices", "NOTE", "No device's own traffic was seen in this short listen.")
    lines, one_way = [], 0
    for mac in devices:
        both = traffic.sent.get(mac, 0) > 0 and traffic.received.get(mac, 0) > 0
        one_way += not both
        lines.append(
            f"{mac.hex(':')}: sent {traffic.sent.get(mac, 0)}, received {traffic.received.get(mac, 0)}, "
            f"DNS {traffic.dns.get(mac, 0)}{'' if both else '  <- one direction only'}"
        )
    if one_way:
        return Check(
            "Devices",
            "NOTE",
            f"For {one_way} of {len(devices)} devices HomeGuard saw only one direction.",
            "Mirror both directions (ingress and egress) of the router's port.",
            lines,
        )
    return Check("Devices", "OK", f"Both directions seen for all {len(devices)} devices.", figures=lines)


LOW_DISK_MIB = 20  # below this, the database will soon fail to write


def check_database(path: Path, config: Config) -> Check:
    if not path.exists():
        return Check("Database", "NOTE", f"No database yet at {path}: HomeGuard has not run.")
    import shutil
    import sqlite3
    import time

    from homeguard.store.faults import damaged_copies

    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        conn.close()
    except sqlite3.Error as exc:
        return Check(
            "Database",
            "PROBLEM",
            f"The database cannot be read: {exc}.",
            "Restart HomeGuard (sudo systemctl restart homeguard): it moves a damaged file aside "
            "and starts a new one.",
        )
    free = shutil.disk_usage(path.parent).free / 2**20
    figures = [
        f"{path.stat().st_size / 2**20:.1f} MiB of {config.values['max_db_mb']} MiB",
        f"{free:.0f} MiB free on its disk",
        f"quick_check: {ok}",
    ]
    aside = damaged_copies(path)
    if aside:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(aside[-1].stat().st_mtime))
        figures.append(f"moved aside as damaged: {', '.join(p.name for p in aside)} (last changed {when})")
    if ok != "ok":
        return Check(
            "Database",
            "PROBLEM",
            "The database is damaged.",
            "Restart HomeGuard (sudo systemctl restart homeguard): it moves the file aside "
            "and starts a new one.",
            figures,
        )
    if free < LOW_DISK_MIB:
        return Check(
            "Database",
            "PROBLEM",
            f"Only {free:.0f} MiB is free on the disk that holds the database.",
            "Free space on it, or lower retention_days in the config.",
            figures,
        )
    if aside:
        return Check(
            "Database",
            "NOTE",
            f"The database is healthy; a damaged one was moved aside to {aside[-1]}.",
            f"Its data may be partly recoverable with: sqlite3 {aside[-1]} .recover. Delete it when done.",
            figures,
        )
    return Check("Database", "OK", "The database is healthy.", figures=figures)


def check_rules(config: Config) -> Check:
    from homeguard.rules.configured import load_rules_for

    ruleset = load_rules_for(config)
    if ruleset.errors:
        return Check(
            "Rules",
            "PROBLEM",
            f"{len(ruleset.errors)} rule error(s); the other rules run.",
            "Run `homeguard rules check` for file:line and the fix.",
            [str(e) for e in ruleset.errors[:5]],
        )
    return Check("Rules", "OK", f"{len(ruleset.rules)} rules loaded without errors.")


def check_targets(config: Config, timeout: float = 3.0) -> list[Check]:
    from homeguard.notify.delivery import apprise_problem

    checks = []
    if not config.values["notify"]:
        checks.append(
            Check(
                "Alerts",
                "PROBLEM",
                "No notification targets: findings are recorded, but no alert goes anywhere.",
                "Add a target under notify: in the config file, such as ntfy or e-mail (docs/alerts.md).",
            )
        )
    for target in config.values["notify"]:
        problem = apprise_problem(target)
        if problem is not None:
            checks.append(
                Check(f"Alerts to {target.name}", "PROBLEM", problem, f"Fix the url at {target.where}.")
            )
            continue
        parts = urlsplit(target.url)
        host = parts.hostname
        scheme = parts.scheme
        port = parts.port or DEFAULT_PORTS.get(scheme, 443)
        if not host:
            checks.append(Check(f"Alerts to {target.name}", "NOTE", "The URL names no host to test."))
            continue
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            reason = target.masked(str(exc))
            checks.append(
                Check(
                    f"Alerts to {target.name}",
                    "PROBLEM",
                    f"The service cannot be reached: {reason}.",
                    "Check the internet connection and the address; `homeguard notify test` sends a test.",
                )
            )
            continue
        checks.append(
            Check(
                f"Alerts to {target.name}",
                "OK",
                "The service answers.",
                "`homeguard notify test` sends a test message.",
            )
        )
    return checks


COMPILE_ADVICE = (
    "Compiled, it needs 54 to 80% of the CPU per packet (docs/performance.md): "
    "`apt-get install build-essential python3-dev`, then "
    "`HOMEGUARD_COMPILE=1 pip install --force-reinstall --no-deps .` in the checkout, "
    "with the pip of HomeGuard's environment."
)


def check_packet_path(declared: list[str], compiled: list[str]) -> Check:
    """Whether the packet path runs compiled (HOMEGUARD_COMPILE=1 at install) or pure."""
    done = sorted(set(declared) & set(compiled))
    if not done:
        return Check("Packet path", "NOTE", "The packet path runs as pure Python.", COMPILE_ADVICE)
    missing = sorted(set(declared) - set(compiled))
    if missing:
        return Check(
            "Packet path",
            "PROBLEM",
            f"Only {len(done)} of the {len(declared)} modules of the packet path are compiled: "
            "the install is incomplete or older than its source.",
            COMPILE_ADVICE,
            figures=[f"not compiled: {name}" for name in missing[:10]],
        )
    return Check("Packet path", "OK", f"The packet path runs compiled ({len(done)} modules, mypyc).")


def run_checks(config: Config, interface: str, seconds: float, db_path: Path, clock: Clock) -> list[Check]:
    from homeguard.errors import CaptureSourceError

    checks = [check_link(interface)]

    def settled_checks() -> list[Check]:  # what does not depend on the capture
        packet_path = check_packet_path(compilable_modules(), compiled_modules())
        return [check_database(db_path, config), check_rules(config), *check_targets(config), packet_path]

    if not Path(f"/sys/class/net/{interface}").exists():  # nothing to capture on: no advice about rights
        return [*checks, *settled_checks()]
    try:
        started = clock.monotonic()
        frames = listen(interface, seconds, clock, config.values["bpf_filter"])
        traffic = count_frames(frames, interface_mac(interface), machine_addresses())
        traffic.seconds = clock.monotonic() - started
        checks.append(Check("Capture permission", "OK", f"HomeGuard may capture on {interface}."))
        checks += [check_visibility(traffic, interface), check_devices(traffic)]
    except CaptureSourceError as exc:
        checks.append(
            Check(
                "Capture permission",
                "PROBLEM",
                f"HomeGuard cannot capture: {exc}",
                "Run it as root, or install the service with `homeguard setup`.",
            )
        )
    except HomeGuardError as exc:
        checks.append(Check("Capture", "PROBLEM", str(exc)))
    return [*checks, *settled_checks()]
