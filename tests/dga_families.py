"""Generated domain names for measuring the DGA model: a few published domain generation
algorithms of real malware families, written again here as test data generators.

Each follows the family's algorithm as the malware analyses describe it (the pseudo
random generator, the alphabet, the length range and the top-level domains), with a
fixed seed or date so the names are the same in every run. Only the names matter here:
HomeGuard sees a name, never the malware. Word-list families (such as suppobox) join
two dictionary words; `wordlist_pairs` imitates them, to show what a character model
cannot catch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import date

MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def ramnit(seed: int = 0x4BFCBC6A, count: int = 300) -> Iterator[str]:
    """Park-Miller minimal standard generator; 8 to 19 letters of a..y, .com."""
    value = seed

    def below(modulus: int) -> int:
        nonlocal value
        value = (16807 * (value % 127773) - 2836 * (value // 127773)) & MASK32
        return value % modulus

    for _ in range(count):
        seed_a = value
        length = below(12) + 8
        seed_b = value
        label = "".join(LETTERS[below(25)] for _ in range(length))
        product = seed_a * seed_b
        value = (product + product // 2**32) % 2**32
        yield label + ".com"


def necurs(day: date = date(2016, 3, 1), count: int = 300) -> Iterator[str]:
    """A 64-bit mixing function over the date and sequence number; 7 to 21 letters."""
    tlds = (
        *("tj", "in", "jp", "tw", "ac", "cm", "la", "mn", "so", "sh", "sc", "nu", "nf", "mu", "ms"),
        *("mx", "ki", "im", "cx", "cc", "tv", "bz", "me", "eu", "de", "ru", "co", "su", "pw", "kz"),
        *("sx", "us", "ug", "ir", "to", "ga", "com", "net", "org", "biz", "xxx", "pro", "bit"),
    )

    def mix(value: int) -> int:
        for index in range((value & 0x7F) + 21):
            value = (value + (((value * 7) ^ (value << 15)) + 8 * index - (value >> 5))) & MASK64
        return value

    for sequence in range(count):
        n = mix(day.year)
        n = mix(n + day.month + 43690)
        n = mix(n + (day.day >> 2))
        n = mix(n + sequence)
        n = mix(n + 9)
        label = ""
        for i in range(n % 15 + 7):
            n = mix(n + i)
            label += LETTERS[n % 25]
            n = mix(n + 0xABBEDF)
        yield f"{label}.{tlds[n % 43]}"


def kraken(day: date = date(2009, 4, 1), count: int = 300) -> Iterator[str]:
    """A C library linear congruential generator; 7 to 12 letters."""
    tlds = ("com", "net", "tv", "cc")
    weeks = (int((day - date(2008, 3, 31)).days) // 7) + 2
    for number in range(count):
        r = 3 * number + 24938314
        for _ in range(weeks):
            r = (((1103515245 * r + 12435) & MASK32) // 256) % 32768
        rands = []
        for _ in range(3):
            r = (1103515245 * r + 12435) & MASK32
            rands.append((r // 256) % 32768)
        label = ""
        for _ in range((rands[0] * rands[1] + rands[2]) % 6 + 7):
            r = (1103515245 * r + 12435) & MASK32
            label += LETTERS[((r // 256) % 32768) % 26]
        yield f"{label}.{tlds[number % 4]}"


def murofet(day: date = date(2011, 6, 1), count: int = 300) -> Iterator[str]:
    """MD5 of the date and an index; each digest byte gives up to two letters."""
    tlds = (".ru", ".biz", ".info", ".org", ".net", ".com")
    for index in range(count):
        seed = bytes(
            [(day.year & 0xFF) + 0x30 & 0xFF, day.month, (day.day // 7) * 7, *index.to_bytes(4, "little")]
        )
        label = ""
        for byte in hashlib.md5(seed).digest():
            low, high = (byte & 0x1F) + ord("a"), (byte >> 3) + ord("a")
            if low != high:
                label += chr(low) if low <= ord("z") else ""
                label += chr(high) if high <= ord("z") else ""
        tld = next(t for i, t in enumerate(tlds) if not index % (len(tlds) - i))
        yield label + tld


def corebot(day: date = date(2015, 9, 8), count: int = 300) -> Iterator[str]:
    """A linear congruential generator over letters and digits; 12 to 23 characters,
    under a dynamic-DNS provider's domain."""
    charset = LETTERS[:-1] + "012345678"
    r = (0x1DBA8930 + day.year + ((1 << 16) + (day.month << 8) | 8)) & MASK32
    for _ in range(count):
        r = (1664525 * r + 1013904223) & MASK32
        label = ""
        for _ in range(12 + r % 12):
            r = (1664525 * r + 1013904223) & MASK32
            label += charset[r % len(charset)]
        yield label + ".ddns.net"


def tinba(count: int = 300) -> Iterator[str]:
    """Each name is derived from the one before and a fixed seed; 12 letters, .com."""
    seed = [ord(c) for c in "oGkS3w3sGGOGG7oc"] + [0]
    name = "ssrgwnrmgrxe.com"
    for _ in range(count):
        previous = [ord(c) for c in name]
        seed_sum = sum(seed[:16])
        letters = []
        tmp = seed[15] & 0xFF
        for i in range(12):
            while True:
                tmp = (((tmp + previous[i]) ^ (seed_sum & 0xFF)) + previous[i + 1]) & 0xFF
                if 0x61 < tmp < 0x7A:
                    letters.append(chr(tmp))
                    break
                seed_sum += 1
        name = "".join(letters) + ".com"
        yield name


def simda(count: int = 300) -> Iterator[str]:
    """Consonant, vowel, consonant...: pronounceable on purpose, 7 letters. Too short for
    the model (MIN_LENGTH 8): the NXDOMAIN share is what catches this family."""
    consonants, vowels = "qwrtpsdfghjklzxcvbnm", "eyuioa"
    step = sum(ord(c) for c in "1676d5775e05c50b46baa5579d4fc7")
    base = 0x45AE94B2
    for _ in range(count):
        base += step
        yield (
            "".join(
                consonants[(base // (3 + 2 * i)) % 20] if i % 2 == 0 else vowels[(base // (3 + 2 * i)) % 6]
                for i in range(7)
            )
            + ".com"
        )


def wordlist_pairs(words: list[str], count: int = 300) -> Iterator[str]:
    """Two dictionary words joined (suppobox-style): what a character model cannot tell
    from a real name, listed to show the limit."""
    step = 7919  # a prime, so the pairs walk the list without repeating soon
    for i in range(count):
        yield words[(i * step) % len(words)] + words[(i * step * 3 + 1) % len(words)] + ".net"


FAMILIES: dict[str, Callable[[], Iterator[str]]] = {
    "ramnit": ramnit,
    "necurs": necurs,
    "kraken": kraken,
    "murofet": murofet,
    "corebot": corebot,
    "tinba": tinba,
    "simda": simda,
}
