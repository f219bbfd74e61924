"""Flow export: the router of the namespace lab runs softflowd (Debian), which exports
NetFlow v9 or IPFIX to HomeGuard on the monitor. HomeGuard's own capture sees only what a
plain switch port would (broadcasts and the export itself), so the laptop's download from
the printer reaches it through the router's export alone. Then bad datagrams: counted,
never a crash."""

from __future__ import annotations

import random
import shutil
import socket
import struct
import sys

import pytest
from sqlite_utils import Database

from homeguard.decode.netflow import Templates, read_export
from homeguard.errors import DecodeError
from tests.netns_lab import MACS, Lab, start_homeguard, stop, wait_for

MONITOR_IP = "192.168.77.50"
FILLER = (  # 4 MB of UDP to the printer's discard port, bounded
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "for _ in range(4000):\n"
    "    s.sendto(bytes(1000), ('192.168.77.13', 9))\n"
)
DOWNLOAD = 300_000  # bytes the printer serves


def export_lab(lab: Lab, version: str) -> None:
    """The monitor gets an address the router can send the export to (a static neighbour
    entry: its port answers no ARP), and softflowd on the router exports every flow."""
    lab.sh("ip", "-n", lab.ns("monitor"), "addr", "add", f"{MONITOR_IP}/24", "dev", "mon0")
    mac = lab.run("monitor", "cat", "/sys/class/net/mon0/address").stdout.strip()
    lab.sh("ip", "-n", lab.ns("router"), "neigh", "add", MONITOR_IP, "lladdr", mac, "dev", "eth0")
    control = lab.workdir / "softflowd.ctl"
    lab.spawn(
        "router",
        [
            "softflowd", "-d", "-i", "eth0", "-v", version, "-n", f"{MONITOR_IP}:2055",
            "-t", "expint=1", "-t", "tcp.fin=1", "-p", str(lab.workdir / "softflowd.pid"), "-c", str(control),
        ],
        "softflowd.log",
    )  # fmt: skip
    wait_for(control.exists, "softflowd to start")


@pytest.mark.parametrize("version", ["9", "10"])
def test_exported_flows_arrive_for_the_right_device_with_the_bytes_sent(lab: Lab, version: str) -> None:
    if shutil.which("softflowd") is None:
        pytest.fail("softflowd is missing: apt-get install softflowd")
    db_path = lab.workdir / "hg.db"
    homeguard = start_homeguard(
        lab,
        db_path,
        ["--filter", "arp or udp port 67 or udp port 68 or udp port 2055"],  # a plain switch port's view
        config_extra=f"flow_export_listen: 0.0.0.0:2055\nrules_dir: {lab.workdir / 'no-rules'}\n",
    )
    export_lab(lab, version)
    lab.start_router({"printer.home.test": "192.168.77.13"})
    (lab.workdir / "www").mkdir()
    (lab.workdir / "www" / "photo.jpg").write_bytes(random.Random(7).randbytes(DOWNLOAD))
    lab.spawn(
        "printer",
        [
            sys.executable,
            "-u",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "192.168.77.13",
            "-d",
            str(lab.workdir / "www"),
        ],
        "http.log",
    )
    wait_for(lambda: "Serving HTTP" in (lab.workdir / "http.log").read_text(), "the printer's web server")
    laptop_ip = lab.dhcp_lease("laptop", "anna-laptop")
    fetched = lab.run("laptop", "curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", "--max-time", "10",
                      "http://192.168.77.13:8080/photo.jpg")  # fmt: skip
    assert fetched.stdout == str(DOWNLOAD)
    # softflowd reads through libpcap's ring, which hands over a block only once it is full
    # (its timeout is 0): a busy router fills blocks all the time; this quiet lab needs a
    # burst for the download's packets to reach softflowd at all.
    lab.run("laptop", sys.executable, "-c", FILLER)

    def exported() -> list[dict[str, object]]:
        rows = list(Database(db_path)["flows"].rows_where("end_reason = 'exported' and dst_port = 8080"))
        return rows

    wait_for(lambda: len(exported()) == 1, "the router's export of the download", timeout=30)
    stop(homeguard, lab)
    (web,) = exported()
    assert (web["src_ip"], web["dst_ip"], web["proto"]) == (laptop_ip, "192.168.77.13", "tcp")
    assert web["src_mac"] == MACS["laptop"] and web["dst_mac"] == MACS["printer"]  # found by address
    # the exporter counts IP bytes: the file, the HTTP head, and 52 bytes of headers a packet
    assert DOWNLOAD < int(web["bytes_in"]) < DOWNLOAD * 1.1  # type: ignore[call-overload]
    # (packets: the veth pairs offload segmentation, so the router sees a few large ones)
    assert int(web["packets_out"]) >= 4 and int(web["packets_in"]) >= 2  # type: ignore[call-overload]
    # nothing of the download came through the capture: only the export and broadcasts did
    assert not list(Database(db_path)["flows"].rows_where("dst_port = 8080 and end_reason != 'exported'"))


def v9_template_and_record() -> bytes:
    template = struct.pack("!HHHH", 0, 20, 256, 3) + struct.pack("!HHHHHH", 8, 4, 12, 4, 1, 4)
    record = struct.pack("!HH", 256, 16) + bytes([192, 168, 1, 20, 8, 8, 8, 8]) + struct.pack("!I", 1500)
    header = struct.pack("!HHIIII", 9, 2, 60_000, 1_767_225_600, 7, 0)
    return header + template + record


def test_a_v9_export_is_read_and_a_gap_in_its_sequence_counted() -> None:
    templates = Templates()
    first = read_export(v9_template_and_record(), "192.168.1.1", templates)
    (record,) = first.records
    assert (record.src_ip, record.dst_ip, record.octets) == (
        bytes([192, 168, 1, 20]),
        bytes([8, 8, 8, 8]),
        1500,
    )
    assert record.start == 1_767_225_600 - 60  # uptime 0 is the exporter's boot, a minute before
    later = bytearray(v9_template_and_record())
    later[12:16] = struct.pack("!I", 10)  # packets 8 and 9 never came
    assert read_export(bytes(later), "192.168.1.1", templates).lost == 2


def test_data_before_its_template_is_counted_not_guessed() -> None:
    data = v9_template_and_record()
    without_template = data[:20] + data[40:]
    packet = read_export(without_template, "192.168.1.1", Templates())
    assert packet.records == [] and packet.unknown_template == 1


def test_fuzzed_exports_never_raise_anything_but_a_decode_error() -> None:
    rng = random.Random(2055)
    seeds = [v9_template_and_record(), struct.pack("!HHIIIIBBH", 5, 1, 0, 0, 0, 0, 0, 0, 0) + bytes(48)]
    templates = Templates()
    errors = 0
    for _ in range(20_000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = data[: rng.randint(0, len(data))]
        try:
            read_export(bytes(data), "192.168.1.1", templates)
        except DecodeError:
            errors += 1
    assert errors > 1000  # the mutations did reach the checks
    assert len(templates.templates) <= 1024


def test_a_collector_counts_malformed_datagrams_and_keeps_going() -> None:
    from homeguard.pipeline.flow_export import FlowCollector

    collector = FlowCollector("127.0.0.1:0")
    try:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(b"\x00\x09garbage", collector.address)
        sender.sendto(v9_template_and_record(), collector.address)
        sender.close()
        wait_for(lambda: collector.stats.datagrams == 2, "the collector to read both")
        assert collector.stats.malformed == 1 and collector._queue.qsize() == 1
    finally:
        collector.close()


def test_a_collector_nothing_arrives_at_for_ten_minutes_is_a_health_problem() -> None:
    from homeguard.pipeline.flow_export import FlowCollector

    collector = FlowCollector("127.0.0.1:0")
    try:
        assert collector.problem(1000.0) is None
        assert collector.problem(1599.0) is None
        problem = collector.problem(1600.0)
        assert problem is not None and "no flow export has arrived on 127.0.0.1:" in problem
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(v9_template_and_record(), collector.address)
        sender.close()
        wait_for(lambda: collector.stats.datagrams == 1, "the collector to read it")
        assert collector.problem(1601.0) is None
    finally:
        collector.close()
