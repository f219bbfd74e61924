"""The generated documentation pages, derived from the declarations in the code.

`python -m homeguard.docs` rewrites them; tests/test_docs.py fails when they are stale.
"""

from __future__ import annotations

from pathlib import Path

import click

from homeguard.cli import cli
from homeguard.events.catalog import catalog_markdown
from homeguard.settings import settings_markdown


def cli_markdown() -> str:
    """Every command's --help, as the page docs/cli.md."""
    lines = ["# Command reference", "", "Generated from the commands' own `--help`.", ""]
    group = cli
    with click.Context(group, info_name="homeguard", terminal_width=88) as ctx:
        lines += ["## homeguard", "", "```", group.get_help(ctx), "```", ""]
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            with click.Context(command, parent=ctx, info_name=name, terminal_width=88) as sub:
                lines += [f"## homeguard {name}", "", "```", command.get_help(sub), "```", ""]
    return "\n".join(lines)


def generated_pages() -> dict[str, str]:
    return {"fields.md": catalog_markdown(), "settings.md": settings_markdown(), "cli.md": cli_markdown()}


def main() -> None:
    docs = Path(__file__).resolve().parent.parent / "docs"
    for name, text in generated_pages().items():
        (docs / name).write_text(text, encoding="utf-8")
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
