"""Central configuration for a fleet of sensors (docs/fleet.md): signed bundles of rules,
lists and settings, fetched by `homeguard fleet pull` and made by `homeguard fleet sign`."""
