"""Every error HomeGuard raises on purpose, in one tree.

HomeGuardError
├── ConfigError          a config file or option is wrong (names file, line and fix)
├── CaptureError         packets cannot be read
│   ├── CaptureFileError     a capture file is unreadable or corrupt (names the file)
│   └── CaptureSourceError   a live interface cannot be opened (names the fix)
├── DecodeError          one packet is malformed; the packet is counted and skipped
├── PluginError          an installed plugin cannot be loaded, or clashes (names the plugin)
├── StoreError           the database cannot be opened or migrated
└── FleetError           an IT department's bundle cannot be fetched, verified or applied

Code outside the CLI raises only these; the CLI turns them into one-line messages.
"""


class HomeGuardError(Exception):
    """Base class of every error HomeGuard raises on purpose."""


class ConfigError(HomeGuardError):
    """A setting or config file is invalid."""


class CaptureError(HomeGuardError):
    """Packets cannot be read from a source."""


class CaptureFileError(CaptureError):
    """A capture file is unreadable, of an unknown format, or corrupt."""


class CaptureSourceError(CaptureError):
    """A live capture source (an interface) cannot be opened."""


class DecodeError(HomeGuardError):
    """A packet or message is malformed. Decoders raise nothing else."""


class PluginError(HomeGuardError):
    """A plugin cannot be loaded, or what it registers clashes with what is there."""


class StoreError(HomeGuardError):
    """The database cannot be opened, migrated or written."""


class FleetError(HomeGuardError):
    """An IT department's bundle that cannot be fetched, verified or applied; the one in
    force stays (homeguard/fleet/)."""
