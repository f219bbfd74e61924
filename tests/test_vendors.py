"""The maker of a device from its MAC prefix (state/vendors.py)."""

from __future__ import annotations

from pathlib import Path

from pytest import MonkeyPatch
from scapy.config import conf

from homeguard.state import vendors
from homeguard.state.vendors import VendorLookup, lines_of, oui_table, parse_manuf, scapy_manuf

MANUF_SAMPLE = """\
# comment line
00:00:01\tXerox\tXerox Corporation
00:00:18\tWebsterC\tWebster Computer Corporation\t# Appletalk/Ethernet Gateway
00:00:80\tCrayComm\tCray Communications\t# [Also shows as "Harris (3M) (new)"]
00:1B:C5:00:00:00/36\tConverge\tConverging Systems Inc.
00:00:2A\tTrw-Sedd
not:a:mac\tNothing\tNobody

B8:27:EB\tRaspberr\tRaspberry Pi Foundation"""


def test_manuf_lines_give_the_long_name_without_comments() -> None:
    table = parse_manuf(lines_of(MANUF_SAMPLE))
    assert table.maker(0x000001) == "Xerox Corporation"
    assert table.maker(0x000018) == "Webster Computer Corporation"
    assert table.maker(0x000080) == "Cray Communications"
    assert table.maker(0x00002A) == "Trw-Sedd"  # no long name: the short one
    assert table.maker(0xB827EB) == "Raspberry Pi Foundation"
    assert table.maker(0x001BC5) is None  # a /36 assignment names part of a prefix only
    assert table.maker(0x000002) is None
    assert len(table.makers) == 5


def test_every_prefix_gets_the_maker_scapys_own_lookup_gives() -> None:
    table = oui_table()  # the file scapy itself reads on this machine
    scapy_loaded = conf.manufdb
    assert len(table.makers) > 30000
    listed = {key for key in scapy_loaded.d if len(key) == 8}
    assert {f"{p:06X}" for p in table.prefixes} == {key.replace(":", "") for key in listed}
    for prefix, maker in zip(table.prefixes, table.makers, strict=True):
        mac = f"{prefix:06x}010203"
        _short, long_name = scapy_loaded.lookup(":".join(mac[i : i + 2] for i in range(0, 12, 2)))
        assert long_name.split("\t", 1)[0].split("#", 1)[0].strip() == maker, mac


def test_scapys_copy_is_read_from_its_source_as_importing_it_would() -> None:
    from scapy.libs.manuf import DATA

    assert scapy_manuf() == DATA
    assert len(parse_manuf(lines_of(DATA)).makers) > 30000


def test_a_device_is_named_by_its_prefix_and_a_private_mac_by_nobody() -> None:
    vendors = VendorLookup()
    assert vendors.vendor(bytes.fromhex("b827eb112233")) == "Raspberry Pi Foundation"
    assert vendors.vendor(bytes.fromhex("ba27eb112233")) is None  # locally administered bit
    unknown = next(p for p in range(0x000000, 0x1000000, 0x10001) if oui_table().maker(p) is None)
    assert vendors.vendor(unknown.to_bytes(3, "big") + b"\x00\x00\x01") is None


def test_without_wiresharks_file_scapys_copy_is_read(monkeypatch: MonkeyPatch, tmp_path: Path) -> None:
    # one place where the file is missing, one where the "file" cannot be read (a directory)
    monkeypatch.setattr(vendors, "WIRESHARK_MANUF", (tmp_path / "share/wireshark/manuf", tmp_path))
    oui_table.cache_clear()
    try:
        table = oui_table()
    finally:
        oui_table.cache_clear()  # the next test reads this machine's file again
    assert table.maker(0xB827EB) == "Raspberry Pi Foundation"
    assert table == parse_manuf(lines_of(scapy_manuf()))
