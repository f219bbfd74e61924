"""The compiled packet path, checked as a user installs it (CI runs this after the suite).

1. Copies this checkout (tracked and new files) to a scratch directory.
2. Builds the wheel with HOMEGUARD_COMPILE=1 (mypyc, setup.py) and puts its extension
   modules into the copy, where Python loads them before the .py beside them.
3. Checks that every module homeguard/compiled.py declares is compiled.
4. Runs the packet path's tests against the copy.
5. Replays ../shared/corpus (when it is there; it says so when not) with the pure and the
   compiled build, and compares every event and every finding.

    python scripts/compiled_suite.py [--keep] [pytest arguments...]
    python scripts/compiled_suite.py --build-only DIR   # steps 1-3 into DIR, for benchmarks
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dump")

# The tests of what is compiled: decoding, sessions, protocols, flows, rules, replay,
# capture workers and the ring. The dashboard, reports, exports, other sources, setup
# and the end-to-end lab run on top of these and are left to the main run, for time.
PACKET_PATH_TESTS = [
    "test_bulk_segments",
    "test_capture_ring",
    "test_capture_workers",
    "test_catalog",
    "test_corpus",
    "test_crash_safety",
    "test_decoders",
    "test_derived_facts",
    "test_dga",
    "test_dns_tunnels",
    "test_enrichment",
    "test_eve",
    "test_flood",
    "test_hostile_input",
    "test_hostile_names",
    "test_household_scenario",
    "test_lists",
    "test_pcapfile",
    "test_personal_data",
    "test_pipeline",
    "test_plugins",
    "test_quic",
    "test_replay_workers",
    "test_rules",
    "test_rules_check",
    "test_sessions",
    "test_threshold_sharing",
    "test_vendors",
    "test_visibility",
    "test_wanted_events",
    "test_worker_budget",
    "test_worker_merge",
]


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, allowed: tuple[int, ...] = (0,)) -> int:
    shown = " ".join(cmd[:8]) + (" ..." if len(cmd) > 8 else "")
    print("$", shown, flush=True)
    code = subprocess.run(cmd, cwd=cwd, env=env, check=False).returncode
    if code not in allowed:
        raise SystemExit(f"failed ({code}): {shown}")
    return code


def copy_checkout(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    if (ROOT / ".cache").is_dir():  # axe-core for the browser tests
        (target / ".cache").symlink_to(ROOT / ".cache")


def build_compiled(copy: Path, wheels: Path) -> None:
    """The wheel a user gets from `HOMEGUARD_COMPILE=1 pip install .`; its extension
    modules go into the copy (mypy, and with it mypyc, is in this venv: no isolation)."""
    env = {**os.environ, "HOMEGUARD_COMPILE": "1"}
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    run([*pip, "-w", str(wheels), "."], cwd=copy, env=env)
    (wheel,) = wheels.glob("homeguard-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith(".so") or name.endswith(".pyd"):
                archive.extract(name, copy)


def check_every_declared_module_is_compiled(copy: Path) -> None:
    code = (
        "from homeguard.compiled import compilable_modules, compiled_modules;"
        "missing = sorted(set(compilable_modules()) - set(compiled_modules()));"
        "extra = sorted(set(compiled_modules()) - set(compilable_modules()));"
        "print(len(compiled_modules()), 'modules compiled');"
        "assert not missing, f'not compiled: {missing}';"
        "assert not extra, f'compiled but not declared (left from an older build?): {extra}'"
    )
    run([sys.executable, "-c", code], cwd=copy)


def in_tree(tree: Path) -> dict[str, str]:
    """An environment in which every Python, child processes included, imports HomeGuard
    from `tree` (before the editable install of the checkout)."""
    return {**os.environ, "PYTHONPATH": str(tree)}


def replay_digest(tree: Path, captures: list[Path], scratch: Path) -> tuple[str, int, int, list[object]]:
    """The events file's hash and length, the exit code (1: the corpus holds a damaged
    capture) and the findings of one replay of the corpus."""
    events, db = scratch / f"{tree.name}.jsonl", scratch / f"{tree.name}.db"
    for old in scratch.glob(f"{tree.name}.*"):  # a fresh database: what it holds changes events
        old.unlink()
    replay = [sys.executable, "-m", "homeguard", "replay", "--separate", "--db", str(db)]
    code = run([*replay, "--events", str(events), *map(str, captures)], tree, in_tree(tree), allowed=(0, 1))
    findings = subprocess.run(
        [sys.executable, "-m", "homeguard", "findings", "--db", str(db), "--json"],
        cwd=tree,
        env=in_tree(tree),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = events.read_bytes()
    return hashlib.sha256(data).hexdigest(), data.count(b"\n"), code, json.loads(findings)


def compare_corpus_replays(copy: Path, scratch: Path) -> None:
    if not CORPUS.is_dir():
        print(f"no shared corpus at {CORPUS}: the pure and compiled replays are not compared")
        return
    captures = sorted(p for p in CORPUS.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    pure = replay_digest(ROOT, captures, scratch)
    compiled = replay_digest(copy, captures, scratch)
    print(f"corpus: {len(captures)} captures, {pure[1]} events, {len(pure[3])} findings (pure)")
    if pure[:3] != compiled[:3]:
        raise SystemExit(
            f"the compiled replay differs: {compiled[1:3]} (events, exit code) against {pure[1:3]}"
        )
    if pure[3] != compiled[3]:
        raise SystemExit("the compiled replay's findings differ from the pure replay's")
    print("the compiled replay gives the same events and findings")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--build-only", type=Path, metavar="DIR", help="build a compiled copy in DIR, test nothing"
    )
    args, pytest_args = parser.parse_known_args()
    if args.build_only is not None:
        args.build_only.mkdir(parents=True)  # a new directory: nothing of an old build mixes in
        copy_checkout(args.build_only)
        with tempfile.TemporaryDirectory() as wheels:
            build_compiled(args.build_only, Path(wheels))
        check_every_declared_module_is_compiled(args.build_only)
        return
    scratch = Path(tempfile.mkdtemp(prefix="homeguard-compiled-"))
    # The copy sits beside a link to ../shared, as the checkout does: the corpus tests find it.
    copy = scratch / "homeguard"
    copy.mkdir()
    if CORPUS.is_dir():
        (scratch / "shared").symlink_to(CORPUS.parent)
    try:
        copy_checkout(copy)
        build_compiled(copy, scratch / "wheels")
        check_every_declared_module_is_compiled(copy)
        tests = [f"tests/{name}.py" for name in PACKET_PATH_TESTS]
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, *pytest_args]
        run(pytest, cwd=copy, env=in_tree(copy))
        compare_corpus_replays(copy, scratch)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
