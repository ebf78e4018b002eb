"""The README and the command's own --help stay in step (after Datasette's tests/test_docs.py).

Every subcommand and every option that ``newsearch X --help`` shows is in the README's command
list, and the README lists nothing the command does not accept; the exit-code table is the one
``rebuild --help`` prints.
"""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from search.cli import EXIT_MEANINGS, main

README = (ROOT / "README.md").read_text(encoding="utf-8")
_OPTION_RE = re.compile(r"--[a-z][a-z-]*")


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def readme_commands() -> dict[str, set[str]]:
    """{subcommand: options} from the README's command list ('' for options of ``newsearch`` itself)."""
    commands: dict[str, set[str]] = {}
    current = None
    for line in section("Commands").splitlines():
        found = re.match(r"^ {4}newsearch (?:([a-z]+)\b)?(.*)$", line)
        if found:
            current = found.group(1) or ""
            commands.setdefault(current, set()).update(_OPTION_RE.findall(found.group(2)))
        elif current is not None and line.startswith(" " * 5) and line.strip():  # a wrapped command line
            commands[current].update(_OPTION_RE.findall(line))
        else:
            current = None
    return commands


def help_text(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*args, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def help_options(text: str) -> set[str]:
    """Options listed in the 'options:' block of a --help text (not those quoted in examples)."""
    return set(re.findall(r"^ {2}(?:-\w, )?(--[a-z][a-z-]*)", text, re.MULTILINE)) - {"--help"}


def help_commands(capsys) -> set[str]:
    text = help_text(capsys)
    block = text.split("positional arguments:", 1)[1].split("options:", 1)[0]
    return set(re.findall(r"^ {4}([a-z]+)\s", block, re.MULTILINE))


def test_readme_lists_every_subcommand_and_nothing_else(capsys):
    assert set(readme_commands()) - {""} == help_commands(capsys)


def test_readme_lists_every_option_of_every_subcommand_and_nothing_else(capsys):
    documented = readme_commands()
    for command in help_commands(capsys):
        shown = help_options(help_text(capsys, command))
        assert shown, command
        assert documented[command] == shown, f"README vs 'newsearch {command} --help'"


def test_top_level_options_are_documented(capsys):
    assert readme_commands()[""] == help_options(help_text(capsys))


def test_every_subcommand_help_has_an_example(capsys):
    for command in help_commands(capsys):
        text = help_text(capsys, command)
        assert f"examples:\n  newsearch {command}" in text, command


def test_exit_code_table_matches_rebuild_and_update_help(capsys):
    rows = re.findall(r"^\| (\d+) \| (.+?) \|$", section("Commands"), re.MULTILINE)
    assert {int(code): meaning.replace("`", "") for code, meaning in rows} == EXIT_MEANINGS
    for command in ("rebuild", "update"):
        text = help_text(capsys, command)
        for code, meaning in EXIT_MEANINGS.items():
            assert f"  {code:<3} {meaning}" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert re.fullmatch(r"newsearch \S.*\n", capsys.readouterr().out)


def test_ci_runs_the_readme_test_command_verbatim_and_ruff():
    readme_command = re.search(r"\*\*Run the tests\*\*.*?\n\n {4}([^\n]+)\n", README, re.DOTALL).group(1)
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_command in ci_lines
    assert ".venv/bin/ruff check ." in ci_lines
