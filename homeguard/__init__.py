"""HomeGuard: a monitor for the home network."""

__version__ = "0.1.0"
