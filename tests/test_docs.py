"""Documentation derived from the code stays current, and every command is documented."""

from __future__ import annotations

from pathlib import Path

import click

from homeguard.cli.main import cli
from homeguard.docs import generated_pages
from homeguard.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def test_generated_pages_are_current() -> None:
    for name, text in generated_pages().items():
        on_disk = (ROOT / name).read_text(encoding="utf-8")
        assert on_disk == text, f"{name} is stale: run python -m homeguard.docs"


def command_names(group: click.Group, prefix: str = "homeguard") -> list[str]:
    names = []
    with click.Context(group) as ctx:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            names.append(f"{prefix} {name}")
            if isinstance(command, click.Group):
                names += command_names(command, f"{prefix} {name}")
    return names


def test_every_command_is_in_the_readme_and_the_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in command_names(cli):
        assert name in readme, f"README.md does not mention '{name}'"
        assert f"## {name}\n" in reference, f"docs/cli.md has no section for '{name}'"


def test_every_setting_has_help_and_a_valid_default() -> None:
    from homeguard.settings import Config

    config = Config()
    for setting in SETTINGS:
        assert setting.help.endswith((".", ")")), setting.name
        if setting.default is not None:
            config.set(setting.name, setting.default, "default")  # passes its own validation


def test_storage_doc_names_every_table_and_column(tmp_path: Path) -> None:
    from homeguard.store.database import open_database

    doc = (ROOT / "docs" / "storage.md").read_text(encoding="utf-8")
    db = open_database(tmp_path / "x.db")
    for table in db.table_names():
        assert f"### `{table}`" in doc, f"docs/storage.md does not describe table {table}"
        for column in db[table].columns:
            assert f"`{column.name}`" in doc, f"docs/storage.md misses {table}.{column.name}"
    db.close()
