"""Store: SQLite through sqlite-utils. docs/storage.md lists everything it keeps."""
