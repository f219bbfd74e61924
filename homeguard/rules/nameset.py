"""A compact set of domain names, for lists of millions of entries.

A Python set of strings costs about 120 bytes a name: a million-name threat list would
take 115 MB of a Raspberry Pi's memory. Past SMALL names, each name is kept as its
64-bit hash instead, in 4,096 sorted arrays (8 bytes a name), and looked up by binary
search. The hash is Python's own string hash (SipHash, salted per process), so the set
lives only in the process that built it. Two different names share a hash with a chance
of about n / 2**64 per lookup (one in 18 trillion for a million names), far below any
list's own errors. Small lists (every shipped one) stay a plain set: fastest to look up.

bench/lists.py measures loading and lookups.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable

SMALL = 50_000  # names kept as a plain set up to here (about 6 MB)
BUCKETS = 4096  # sorted one at a time, so building never holds more than a sliver as objects


class NameSet:
    def __init__(self, names: Iterable[str] = ()) -> None:
        self._small: set[str] | None = set()  # the names, until there are more than SMALL
        self._buckets: list[array[int]] = []
        self._unsorted: set[int] = set()  # buckets added to since they were last sorted
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        small = self._small
        if small is not None:
            small.add(name)
            if len(small) > SMALL:
                self._to_hashes(small)
            return
        value = hash(name)
        index = value & (BUCKETS - 1)
        self._buckets[index].append(value)
        self._unsorted.add(index)

    def _to_hashes(self, names: set[str]) -> None:
        self._small = None
        self._buckets = [array("q") for _ in range(BUCKETS)]
        for name in names:
            value = hash(name)
            self._buckets[value & (BUCKETS - 1)].append(value)
        self._unsorted = set(range(BUCKETS))

    def freeze(self) -> None:
        """Sort (and deduplicate) what was added; lookups call it when needed."""
        for index in self._unsorted:
            self._buckets[index] = array("q", sorted(set(self._buckets[index])))
        self._unsorted.clear()

    def has_domain_of(self, name: str) -> bool:
        """Whether `name` or one of its parent domains is in the set."""
        small = self._small
        if small is not None:
            while True:
                if name in small:
                    return True
                dot = name.find(".")
                if dot < 0:
                    return False
                name = name[dot + 1 :]
        if self._unsorted:
            self.freeze()
        buckets = self._buckets
        while True:
            value = hash(name)
            bucket = buckets[value & (BUCKETS - 1)]
            at = bisect_left(bucket, value)
            if at < len(bucket) and bucket[at] == value:
                return True
            dot = name.find(".")
            if dot < 0:
                return False
            name = name[dot + 1 :]

    def __contains__(self, name: object) -> bool:
        """Exactly this name (not its parents)."""
        if not isinstance(name, str):
            return False
        if self._small is not None:
            return name in self._small
        if self._unsorted:
            self.freeze()
        value = hash(name)
        bucket = self._buckets[value & (BUCKETS - 1)]
        at = bisect_left(bucket, value)
        return at < len(bucket) and bucket[at] == value

    def __len__(self) -> int:
        if self._small is not None:
            return len(self._small)
        if self._unsorted:
            self.freeze()
        return sum(map(len, self._buckets))
