"""HomeGuard as a service: the live daemon loop, config reload, setup, doctor and self-monitoring."""
