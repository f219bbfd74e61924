"""`homeguard fleet pull`: fetch the IT department's bundle and its signature over HTTPS
(fleet_url, checked against the system's CAs or fleet_ca_file), verify it against the
key installed at setup (fleet_public_key), and apply it. Only when the config asks: with
no fleet_url, nothing is fetched."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from homeguard.errors import FleetError
from homeguard.fleet import bundle
from homeguard.fleet.minisign import PublicKey
from homeguard.settings import Config
from homeguard.settings.places import fleet_directory

TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Pulled:
    version: int
    applied: bool  # False: that version was already in force
    path: Path | None


def pull(config: Config) -> Pulled | None:
    """None when no fleet_url is set; FleetError when the bundle cannot be had or is refused."""
    url = config.values["fleet_url"]
    if not url:
        return None
    if not url.startswith("https://"):
        raise FleetError(f"fleet_url {url!r}: bundles come only over HTTPS")
    key_text = config.values["fleet_public_key"]
    if not key_text:
        raise FleetError("fleet_url is set but fleet_public_key is not: a bundle is never applied unverified")
    public = PublicKey.parse(key_text)
    context = ssl.create_default_context(cafile=config.values["fleet_ca_file"])
    data = _fetch(url, context, bundle.MAX_BUNDLE_BYTES)
    signature = _fetch(url + ".minisig", context, 4096).decode("utf-8", "replace")
    fetched = bundle.read(data, signature, public)
    fleet_dir = fleet_directory(config.values["db_path"])
    current = bundle.in_force(fleet_dir)
    if current is not None and current["version"] == fetched.version:
        return Pulled(fetched.version, False, None)
    return Pulled(fetched.version, True, bundle.apply(fetched, fleet_dir, config))


def _fetch(url: str, context: ssl.SSLContext, limit: int) -> bytes:
    try:
        with urllib.request.urlopen(
            url, timeout=TIMEOUT, context=context
        ) as answer:  # https only: checked above
            data = bytes(answer.read(limit + 1))
    except urllib.error.HTTPError as exc:
        raise FleetError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FleetError(f"{url}: cannot fetch it ({reason})") from None
    if len(data) > limit:
        raise FleetError(f"{url}: larger than {limit} bytes; refused")
    return data
