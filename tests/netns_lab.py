"""A small home network made of network namespaces, for tests that need real traffic.

    router  (192.168.77.1, dnsmasq: DHCP and DNS) --veth--+
    laptop  (address from DHCP)                   --veth--+-- br0 (ageing_time 0:
    printer (192.168.77.13, an HTTP server)       --veth--+   floods every frame)
    monitor (no address)                          --veth--+   mon0 sees everything

Every address lives inside these namespaces; nothing reaches the host's network.
IPv6 is off in every namespace before any interface exists, so the only frames on
the bridge are the ones a test makes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

MACS = {
    "router": "b8:27:eb:77:00:01",  # Raspberry Pi Foundation
    "laptop": "3c:22:fb:77:00:02",  # Apple
    "printer": "00:1b:a9:77:00:03",  # Brother
}
STATIC = {"router": "192.168.77.1/24", "printer": "192.168.77.13/24"}
TOOLS = ("ip", "sysctl", "dnsmasq", "busybox", "curl")
PACKAGES = "iproute2 procps dnsmasq-base busybox curl"  # the Debian packages that bring TOOLS


def unavailable_reason() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root for network namespaces (CI runs as root)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (apt-get install {PACKAGES})"
    probe = f"hgprobe{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "cannot create network namespaces here"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Lab:
    def __init__(self, workdir: Path, mirror: bool = True) -> None:
        # mirror: the bridge floods every frame to the monitor (ageing_time 0), as a mirror
        # port would; without, it is an ordinary learning switch and the monitor an
        # ordinary port (with ARP on, to take part when it intercepts).
        self.mirror = mirror
        self.prefix = f"hg{os.getpid() % 100000}"
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def ns(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def sh(self, *args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:  # say why: `ip netns exec` reports a missing program only on stderr
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")

    def up(self) -> None:
        sw = self.ns("sw")
        for host in ("sw", "monitor", *MACS):
            self.sh("ip", "netns", "add", self.ns(host))
            for key in ("all", "default"):
                self.sh(
                    "ip",
                    "netns",
                    "exec",
                    self.ns(host),
                    "sysctl",
                    "-qw",
                    f"net.ipv6.conf.{key}.disable_ipv6=1",
                )
            self.sh("ip", "-n", self.ns(host), "link", "set", "lo", "up")
        # The switch and the mirror port must stay silent (no IGMP reports of their own),
        # so that every device in the inventory is one the test made.
        self.sh(
            "ip",
            "-n",
            sw,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "ageing_time",
            "0" if self.mirror else "30000",  # centiseconds: a switch's usual 300 s
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        )
        self.sh("ip", "-n", sw, "link", "set", "br0", "multicast", "off", "arp", "off", "up")
        for i, (host, mac) in enumerate(MACS.items(), 1):
            self.sh(
                "ip",
                "link",
                "add",
                "eth0",
                "netns",
                self.ns(host),
                "address",
                mac,
                "type",
                "veth",
                "peer",
                "name",
                f"port{i}",
                "netns",
                sw,
            )
            if host in STATIC:
                self.sh("ip", "-n", self.ns(host), "addr", "add", STATIC[host], "dev", "eth0")
            self.sh("ip", "-n", self.ns(host), "link", "set", "eth0", "up")
            self.sh("ip", "-n", sw, "link", "set", f"port{i}", "master", "br0", "up")
        self.sh(
            "ip",
            "link",
            "add",
            "mon0",
            "netns",
            self.ns("monitor"),
            "type",
            "veth",
            "peer",
            "name",
            "portmon",
            "netns",
            sw,
        )
        quiet = ("multicast", "off", "arp", "off") if self.mirror else ()
        self.sh("ip", "-n", self.ns("monitor"), "link", "set", "mon0", *quiet, "up")
        self.sh("ip", "-n", sw, "link", "set", "portmon", "master", "br0", "up")

    def down(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        for host in ("monitor", *MACS, "sw"):
            subprocess.run(["ip", "netns", "del", self.ns(host)], capture_output=True)

    def run(self, host: str, *cmd: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run a command in a host to completion (bounded by timeout)."""
        return subprocess.run(
            ["ip", "netns", "exec", self.ns(host), *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def spawn(self, host: str, cmd: Sequence[str], log: str) -> subprocess.Popen[bytes]:
        """Start a long-running program in a host; it is stopped by down()."""
        out = (self.workdir / log).open("wb")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(host), *cmd], stdout=out, stderr=subprocess.STDOUT
        )
        self.processes.append(proc)
        return proc

    def start_router(self, hosts: dict[str, str], extra: Sequence[str] = ()) -> None:
        """dnsmasq on the router: DHCP for the laptop and DNS for the household's names."""
        cmd = [
            "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--interface=eth0",
            "--user=root",
            "--group=root",
            "--dhcp-range=192.168.77.100,192.168.77.150,255.255.255.0,1h",
            "--dhcp-option=option:router,192.168.77.1",
            f"--dhcp-leasefile={self.workdir / 'leases'}",
            f"--pid-file={self.workdir / 'dnsmasq.pid'}",
            "--log-facility=-",
            "--log-dhcp",
            "--local=/home.test/",
        ]
        cmd += [f"--host-record={name},{ip}" for name, ip in hosts.items()]
        self.spawn("router", [*cmd, *extra], "dnsmasq.log")
        wait_for(lambda: (self.workdir / "dnsmasq.pid").exists(), "dnsmasq to start")

    def dhcp_lease(self, host: str, hostname: str) -> str:
        """Get an address for host with busybox udhcpc; returns it."""
        script = self.workdir / "udhcpc.sh"
        script.write_text(
            "#!/bin/sh\n"
            'if [ "$1" = bound ] || [ "$1" = renew ]; then\n'
            '  ip addr add "$ip/${mask:-24}" dev "$interface"\n'
            '  echo "$ip" > "' + str(self.workdir / "lease.ip") + '"\n'
            "fi\n"
        )
        script.chmod(0o755)
        self.run(
            host,
            "busybox",
            "udhcpc",
            "-i",
            "eth0",
            "-f",
            "-q",
            "-n",
            "-t",
            "5",
            "-T",
            "1",
            "-s",
            str(script),
            "-x",
            f"hostname:{hostname}",
            timeout=30,
        )
        return (self.workdir / "lease.ip").read_text().strip()


def wait_for(condition: object, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_webhook(lab: Lab, port: int = 8099) -> Path:
    """A JSON webhook (tests/receivers.py) in the monitor's namespace; returns the file
    that collects what it receives, one JSON object per line."""
    received = lab.workdir / "webhook.jsonl"
    received.touch()
    receiver = Path(__file__).parent / "receivers.py"
    lab.spawn("monitor", [sys.executable, "-u", str(receiver), str(port), str(received)], "webhook.log")
    wait_for(lambda: "listening" in (lab.workdir / "webhook.log").read_text(), "the webhook")
    return received


def start_homeguard(lab: Lab, db: Path, extra: list[str] | None = None, config_extra: str = "") -> object:
    config = lab.workdir / "config.yaml"
    config.write_text(f"stats_interval: 1\nflush_interval: 1\nrules_dir: {lab.workdir / 'no-rules'}\n")
    if config_extra:
        config.write_text(f"stats_interval: 1\nflush_interval: 1\n{config_extra}")
    proc = lab.spawn(
        "monitor",
        [
            sys.executable,
            "-m",
            "homeguard",
            "run",
            "-i",
            "mon0",
            "--db",
            str(db),
            "--config",
            str(config),
            *(extra or []),
        ],
        "homeguard.log",
    )
    log = lab.workdir / "homeguard.log"
    wait_for(lambda: "capturing on mon0" in log.read_text() or proc.poll() is not None, "homeguard to start")
    assert proc.poll() is None, log.read_text()
    return proc


def stop(proc: object, lab: Lab) -> None:
    proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
    assert proc.wait(timeout=20) == 0, (lab.workdir / "homeguard.log").read_text()  # type: ignore[attr-defined]
