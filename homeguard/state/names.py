"""Which name a device looked up for an address: the DNS answers, remembered, so that
a flow to 142.250.185.14 reads as a flow to www.youtube.com; with the CNAME chain the
answer went through (www.bank.example -> bank.eulerian.net), which tells a tracker
hidden behind a first-party name, or the CDN that serves a company."""

from __future__ import annotations

from homeguard.bounded import make_room

MAX_CHAIN = 8  # CNAMEs kept per address; resolvers stop following long before


class ServerNames:
    """IP bytes to the name asked for (and its CNAME chain, when it had one). Bounded:
    the oldest entries go first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._names: dict[bytes, str | tuple[str, ...]] = {}  # a tuple only with CNAMEs

    def __len__(self) -> int:
        return len(self._names)

    def learn(self, ip: bytes, name: str, cnames: tuple[str, ...] = ()) -> None:
        names = self._names
        names.pop(ip, None)  # re-insert so the entry counts as new
        make_room(names, self.max_entries)
        names[ip] = (name, *cnames[:MAX_CHAIN]) if cnames else name

    def name_of(self, ip: bytes) -> str | None:
        known = self._names.get(ip)
        return known[0] if isinstance(known, tuple) else known

    def cnames_of(self, ip: bytes) -> tuple[str, ...]:
        known = self._names.get(ip)
        return known[1:] if isinstance(known, tuple) else ()


def cname_chain(asked: str, targets: dict[str, str]) -> tuple[str, ...]:
    """The names a CNAME chain goes through from `asked`, in order (targets: CNAME
    owner -> target, lower case)."""
    chain: list[str] = []
    name = asked.lower()
    while name in targets and len(chain) < MAX_CHAIN:
        name = targets[name]
        if name in chain:
            break  # a loop: a hostile or broken answer
        chain.append(name)
    return tuple(chain)
