"""The generated documentation pages, derived from the declarations in the code.

`python -m homeguard.docs` rewrites them; tests/test_docs.py fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from homeguard.cli.main import cli
from homeguard.protocols.shipped import shipped_catalog
from homeguard.rules.jsonschema import rule_json_schema
from homeguard.settings import settings_markdown


def _help_sections(command: click.Command, ctx: click.Context, title: str) -> list[str]:
    lines = [f"## {title}", "", "```", command.get_help(ctx), "```", ""]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            with click.Context(sub, parent=ctx, info_name=name, terminal_width=88) as sub_ctx:
                lines += _help_sections(sub, sub_ctx, f"{title} {name}")
    return lines


def cli_markdown() -> str:
    """Every command's --help, as the page docs/cli.md."""
    lines = ["# Command reference", "", "Generated from the commands' own `--help`.", ""]
    # The context settings the command line runs with (-h as well as --help), so that the
    # page shows what a user sees, whatever help click built before.
    with click.Context(cli, info_name="homeguard", terminal_width=88, **cli.context_settings) as ctx:
        lines += _help_sections(cli, ctx, "homeguard")
    return "\n".join(lines)


def generated_pages() -> dict[str, str]:
    """Generated files, by path relative to the repository."""
    return {
        "docs/fields.md": shipped_catalog().markdown(),
        "docs/settings.md": settings_markdown(),
        "docs/cli.md": cli_markdown(),
        "rules/rule.schema.json": json.dumps(rule_json_schema(shipped_catalog()), indent=2) + "\n",
    }


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    for name, text in generated_pages().items():
        (root / name).write_text(text, encoding="utf-8")
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
