"""What the IT department configured and what leaves the house: the household's view,
for `homeguard fleet status` and the dashboard's settings page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from homeguard.fleet.bundle import in_force
from homeguard.fleet.minisign import PublicKey
from homeguard.settings import Config
from homeguard.settings.places import fleet_directory

EXPORTED = (
    "findings about the work devices listed below, with their own addresses and the internet "
    "addresses they talked to",
    "attacks on the home network (ARP spoofing, a rogue DHCP server or router, a MAC flood, a scan), "
    "as 'a device on the home network', naming no device",
    "the sensor's health: capture loss, what it can see, its version",
)
NOT_EXPORTED = (
    "anything about the household's other devices: names, MACs, addresses, lookups, companies",
    "the messages HomeGuard writes for the household, the DNS log, the data report",
)


@dataclass
class FleetStatus:
    url: str | None
    key_id: str | None
    version: int | None = None
    created: str | None = None
    signed: str | None = None
    settings: dict[str, str] = field(default_factory=dict)  # set by the bundle: name -> value
    rules: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    work_devices: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def exporting(self) -> bool:
        return bool(self.outputs)


def fleet_status(config: Config) -> FleetStatus:
    values = config.values
    key = values["fleet_public_key"]
    try:
        key_id = PublicKey.parse(key).id_text if key else None
    except Exception:  # a broken key is reported by pull; here, only shown as unreadable
        key_id = "unreadable"
    status = FleetStatus(values["fleet_url"], key_id, work_devices=list(values["fleet_work_devices"]))
    manifest = in_force(fleet_directory(values["db_path"]))
    if manifest is not None:
        status.version, status.created, status.signed = (
            manifest["version"],
            manifest["created"],
            manifest.get("signed"),
        )
        files = sorted(manifest["files"])
        status.rules = [Path(f).name for f in files if f.startswith("rules/")]
        status.lists = [Path(f).stem for f in files if f.startswith("lists/")]
    status.settings = {
        name: str(config.value(name))
        for name, where in config.source.items()
        if "fleet" in where and "current" in where
    }
    if values["export_ecs_file"]:
        status.outputs.append(f"ECS file {values['export_ecs_file']}")
    if values["export_syslog"]:
        status.outputs.append(f"syslog {values['export_syslog']} ({values['export_syslog_format']})")
    return status
