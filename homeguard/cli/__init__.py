"""The command line: thin click commands over the core, wired through homeguard.app."""
