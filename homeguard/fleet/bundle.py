"""An IT department's bundle: rules, lists and a settings overlay in one signed tar file.

    bundle.tar            bundle.json (format, version, and the SHA-256 of every file),
                          config.yaml (optional: only fleet_*, export_* and disabled_rules),
                          rules/*.yml, lists/*.txt
    bundle.tar.minisig    its Ed25519 signature in minisign's format

Applying one is all or nothing: the signature, the version (newer than the one in force),
every file's hash, the settings and the rules are checked in a staging folder first;
then fleet/current is switched to it in one rename. The bundle before it is kept.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from homeguard.errors import ConfigError, FleetError
from homeguard.fleet.minisign import PublicKey, SecretKey, sign, verify
from homeguard.rules.loader import load_ruleset, shipped_rules_dir
from homeguard.settings import Config, apply_fleet_overlay

FORMAT = 1
MANIFEST = "bundle.json"
MAX_BUNDLE_BYTES = 64 << 20
MAX_FILES = 2000
KEPT = 2  # bundles kept on disk: the one in force and the one before it


@dataclass(frozen=True, slots=True)
class Bundle:
    version: int
    created: str
    files: dict[str, str]  # path in the bundle -> SHA-256
    comment: str = ""  # the signature's trusted comment
    contents: dict[str, bytes] = field(default_factory=dict, repr=False)


def allowed(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or name != str(path):
        return False
    if name == "config.yaml":
        return True
    return len(path.parts) == 2 and (
        (path.parts[0] == "rules" and path.suffix in (".yml", ".yaml"))
        or (path.parts[0] == "lists" and path.suffix == ".txt")
    )


def build(source: Path, version: int, now: float) -> bytes:
    """A bundle's tar from a folder holding config.yaml, rules/ and lists/."""
    files: dict[str, bytes] = {}
    for path in sorted(source.rglob("*")):
        if path.is_file():
            name = path.relative_to(source).as_posix()
            if not allowed(name):
                raise FleetError(f"{path}: a bundle holds only config.yaml, rules/*.yml and lists/*.txt")
            files[name] = path.read_bytes()
    if not files:
        raise FleetError(f"{source}: nothing to bundle (config.yaml, rules/*.yml, lists/*.txt)")
    manifest = {
        "format": FORMAT,
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in [(MANIFEST, json.dumps(manifest, indent=1).encode()), *files.items()]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(now), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def signed(data: bytes, secret: SecretKey, version: int) -> str:
    return sign(data, secret, f"homeguard bundle version {version}")


def read(data: bytes, signature: str, public: PublicKey) -> Bundle:
    """The bundle, once its signature, its files and their hashes are checked."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise FleetError(f"the bundle is {len(data) >> 20} MiB: more than {MAX_BUNDLE_BYTES >> 20} MiB")
    comment = verify(data, signature, public)  # before anything in it is read
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar.getmembers()[: MAX_FILES + 1]:
                if not member.isfile() or not (member.name == MANIFEST or allowed(member.name)):
                    raise FleetError(f"the bundle holds {member.name!r}, which a bundle may not")
                handle = tar.extractfile(member)
                contents[member.name] = handle.read() if handle is not None else b""
    except tarfile.TarError as exc:
        raise FleetError(f"the bundle is not a readable tar file: {exc}") from None
    manifest = _manifest(contents.pop(MANIFEST, None))
    if set(manifest["files"]) != set(contents):
        raise FleetError("the bundle's files are not the ones its bundle.json lists")
    for name, digest in manifest["files"].items():
        if hashlib.sha256(contents[name]).hexdigest() != digest:
            raise FleetError(f"{name} in the bundle does not match its SHA-256 in bundle.json")
    return Bundle(manifest["version"], manifest["created"], manifest["files"], comment, contents)


def _manifest(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise FleetError("the bundle has no bundle.json")
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise FleetError("the bundle's bundle.json is not JSON") from None
    ok = (
        isinstance(manifest, dict)
        and manifest.get("format") == FORMAT
        and isinstance(manifest.get("version"), int)
        and isinstance(manifest.get("files"), dict)
    )
    if not ok:
        raise FleetError(f"the bundle's bundle.json is not format {FORMAT} with a version and files")
    return dict(manifest)


def in_force(fleet_dir: Path) -> dict[str, Any] | None:
    """The manifest of the bundle in force (with its signature's comment), or None."""
    path = fleet_dir / "current" / MANIFEST
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def apply(bundle: Bundle, fleet_dir: Path, config: Config) -> Path:
    """Stage, check and switch to the bundle; FleetError leaves the one in force alone."""
    current = in_force(fleet_dir)
    if current is not None and bundle.version <= current["version"]:
        if bundle.version == current["version"]:
            raise FleetError(f"version {bundle.version} is already in force")
        raise FleetError(
            f"version {bundle.version} is older than version {current['version']} in force: refused "
            "(an old bundle served again?)"
        )
    fleet_dir.mkdir(parents=True, exist_ok=True)
    staging = fleet_dir / f".staging-{bundle.version}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for name, data in bundle.contents.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        manifest = {
            "format": FORMAT,
            "version": bundle.version,
            "created": bundle.created,
            "files": bundle.files,
        }
        (staging / MANIFEST).write_text(json.dumps({**manifest, "signed": bundle.comment}, indent=1))
        _check(staging, config)
        final = fleet_dir / f"v{bundle.version}"
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    link = fleet_dir / ".current-new"
    link.unlink(missing_ok=True)
    link.symlink_to(final.name)
    os.replace(link, fleet_dir / "current")  # one rename: readers see the old or the new, never half
    _forget_old(fleet_dir)
    return final


def _check(staging: Path, config: Config) -> None:
    overlay = staging / "config.yaml"
    if overlay.exists():
        try:
            apply_fleet_overlay(Config(), overlay)
        except ConfigError as exc:
            raise FleetError(f"the bundle's settings are refused:\n{exc}") from None
    if (staging / "rules").is_dir():  # with the shipped rules and lists, which its rules may use
        shipped = shipped_rules_dir()
        lists = (shipped / "lists", staging / "lists")
        ruleset = load_ruleset([shipped, staging / "rules"], frozenset(), None, lists)
        problems = [str(e) for e in ruleset.errors if str(staging) in str(e)]
        if problems:
            raise FleetError("the bundle's rules have errors:\n" + "\n".join(problems))


def _forget_old(fleet_dir: Path) -> None:
    versions = sorted(
        (int(p.name[1:]), p) for p in fleet_dir.glob("v*") if p.is_dir() and p.name[1:].isdigit()
    )
    for _, path in versions[:-KEPT]:
        shutil.rmtree(path, ignore_errors=True)
