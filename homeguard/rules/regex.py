"""Regular expressions in rules (`field|re: ...`) cannot freeze capture.

Any device on the network chooses the names a pattern is matched against, so a pattern
such as `^(a+)+$` meeting 31 a's and a '!' must not backtrack for minutes. Patterns are
matched by RE2 (google-re2), in time linear in the input, where its wheels exist
(x86_64 and aarch64: Raspberry Pi OS 64-bit). Elsewhere (32-bit Raspberry Pi OS) they
fall back to Python's re. Patterns that cannot backtrack badly run in Python's re on
every machine, since it is quicker to call. Either way:

- the same patterns are refused on every machine: backreferences, lookaround, and a
  repetition inside a repetition (`(a+)+`, `(a*)*`), which is where backtracking goes
  exponential; `rules check` rejects those with file:line:col;
- a pattern sees at most MAX_INPUT characters of a value.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any

try:  # linear-time matching where google-re2 has a wheel
    import re2
except ImportError:  # pragma: no cover - only on machines without a wheel (armhf)
    re2 = None

MAXREPEAT = re._constants.MAXREPEAT  # type: ignore[attr-defined]
MAX_INPUT = 4096  # characters of a value a pattern looks at: the longest text kept (an HTTP URI)
ENGINE = "re2" if re2 is not None else "re"


class PatternError(ValueError):
    """A pattern HomeGuard will not run; the message says why and what to write."""


def compile_pattern(text: str, ignore_case: bool) -> Callable[[str], bool]:
    """A predicate: does the pattern occur in (the first MAX_INPUT characters of) a value?"""
    parsed = _parsed(text, ignore_case)
    _reject_backtracking(parsed, text)
    if re2 is not None and _may_backtrack(parsed):
        options = re2.Options()
        options.case_sensitive = not ignore_case
        options.log_errors = False
        try:
            pattern: Any = re2.compile(text, options)
        except re2.error as exc:
            raise PatternError(f"RE2 cannot run {text!r}: {exc}") from exc
    else:
        pattern = re.compile(text, re.IGNORECASE if ignore_case else 0)
    search = pattern.search
    return lambda value: search(value[:MAX_INPUT]) is not None


def _parsed(text: str, ignore_case: bool) -> Any:
    # the standard library's own parser gives the pattern's tree (re._parser has no stubs)
    sre_parse: Any = importlib.import_module("re._parser")
    try:
        return sre_parse.parse(text, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise PatternError(f"bad regular expression {text!r}: {exc}") from exc


def _reject_backtracking(parsed: Any, text: str) -> None:
    for op, av in _walk(parsed):
        name = str(op)
        if name in ("GROUPREF", "GROUPREF_EXISTS"):
            raise PatternError(f"{text!r}: backreferences are not supported (patterns run in linear time)")
        if name in ("ASSERT", "ASSERT_NOT"):
            raise PatternError(
                f"{text!r}: lookahead and lookbehind are not supported (patterns run in linear time)"
            )
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, inner = av
            if high > 1 and any(_repeats(o, a) for o, a in _walk(inner)):
                raise PatternError(
                    f"{text!r}: a repetition inside a repetition, such as (a+)+, can take exponential "
                    "time on a name a device chooses; write it without the outer one, such as a+"
                )


def _may_backtrack(parsed: Any) -> bool:
    """Could Python's re take more than linear time here? When a repetition of varying
    length holds an alternation ((a|aa)+), or three unbounded repetitions follow one
    another (.*a.*b.*). Patterns without either (most: a literal, classes, a fixed
    alternation) run in Python's re, which is ten times quicker to call than RE2's
    binding on a short name."""
    unbounded = 0
    for op, av in _walk(parsed):
        if _repeats(op, av):
            if any(str(o) == "BRANCH" for o, _ in _walk(av[2])):
                return True
            unbounded += av[1] == MAXREPEAT
    return unbounded >= 3


def _repeats(op: Any, av: Any) -> bool:
    """A repetition of varying length (a+, a*, a{1,5}); a fixed a{3} cannot backtrack."""
    return str(op) in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] != av[1] and av[1] > 1


def _walk(node: Any) -> list[tuple[Any, Any]]:
    """Every (op, argument) in a parsed pattern, depth first."""
    out: list[tuple[Any, Any]] = []
    for op, av in node:
        out.append((op, av))
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            out += _walk(av[2])
        elif name == "SUBPATTERN":
            out += _walk(av[3])
        elif name in ("ASSERT", "ASSERT_NOT"):
            out += _walk(av[1])
        elif name == "BRANCH":
            for branch in av[1]:
                out += _walk(branch)
        elif name == "GROUPREF_EXISTS":
            out += _walk(av[1]) + (_walk(av[2]) if av[2] else [])
        elif name == "ATOMIC_GROUP":
            out += _walk(av)
    return out
