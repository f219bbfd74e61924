"""What the sensor can see: the daemon counts its flows the way `doctor` counts frames,
so the dashboard can say whether HomeGuard sees the household's traffic or only
announcements.

A flow between two other devices (unicast, neither end this machine) is what a mirror
port adds; so is a flow this machine forwards as the router (its MAC, but neither
address its own). A switch port sees only broadcast, multicast and its own traffic.
Counting per new flow, not per packet, keeps the packet path free of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeguard.decode.addresses import is_unicast_mac

# The verdicts, worst first. Words for each are in doctor (English) and the dashboard.
NOTHING = "nothing"  # no traffic at all
BROADCAST_ONLY = "broadcast_only"  # announcements only: not a mirror port
ONE_WAY = "one_way"  # unicast between others, but almost never answered: one direction mirrored
SEES_ALL = "sees_all"
ONE_WAY_SHARE = 0.05  # below this share of answered flows, only one direction is mirrored
ONE_WAY_MINIMUM = 20  # flows needed before calling it one-way


@dataclass(slots=True)
class Visibility:
    own_mac: bytes | None = None  # this machine's, on the capture interface (None in replay)
    own_ips: frozenset[bytes] = frozenset()  # this machine's addresses, packed
    between_others: int = 0
    answered: int = 0  # flows between others that saw a packet each way, counted as they end
    group: int = 0  # broadcast and multicast
    own: int = 0  # to or from this machine

    def flow_started(
        self, src_mac: bytes | None, dst_mac: bytes | None, src_ip: bytes, dst_ip: bytes
    ) -> None:
        if dst_mac is None or not is_unicast_mac(dst_mac):
            self.group += 1
        elif self._own(src_mac, dst_mac, src_ip, dst_ip):
            self.own += 1
        else:
            self.between_others += 1

    def flow_ended(
        self, src_mac: bytes | None, dst_mac: bytes | None, src_ip: bytes, dst_ip: bytes, answered: bool
    ) -> None:
        if answered and dst_mac is not None and is_unicast_mac(dst_mac):
            self.answered += not self._own(src_mac, dst_mac, src_ip, dst_ip)

    def _own(self, src_mac: bytes | None, dst_mac: bytes | None, src_ip: bytes, dst_ip: bytes) -> bool:
        """To or from this machine itself; not what it forwards as a router."""
        if self.own_mac is None or self.own_mac not in (src_mac, dst_mac):
            return False
        return src_ip in self.own_ips or dst_ip in self.own_ips or not self.own_ips

    def verdict(self) -> str:
        return visibility_verdict(self.between_others, self.group + self.own, self.answered)


def visibility_verdict(between_others: int, other: int, answered: int | None = None) -> str:
    """NOTHING, BROADCAST_ONLY, ONE_WAY or SEES_ALL, from counts of flows or frames.
    `answered` is None where it was not counted."""
    if between_others == 0:
        return NOTHING if other == 0 else BROADCAST_ONLY
    if (
        answered is not None
        and between_others >= ONE_WAY_MINIMUM
        and answered < between_others * ONE_WAY_SHARE
    ):
        return ONE_WAY
    return SEES_ALL
