"""Every `distill` command answers --help (the real CLI, in a subprocess)."""

from __future__ import annotations

import subprocess
import sys

import click
import typer.main

from distill.cli import _register, app


def all_command_paths() -> list[list[str]]:
    _register()
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: click.Command, prefix: list[str]) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(root, [])
    return paths


def test_every_command_has_help() -> None:
    paths = all_command_paths()
    assert ["seeds", "inspect"] in paths and ["run"] in paths
    for path in paths:
        out = subprocess.run([sys.executable, "-m", "distill.cli", *path, "--help"], capture_output=True, text=True)
        assert out.returncode == 0, (path, out.stderr)
        assert "Usage:" in out.stdout
