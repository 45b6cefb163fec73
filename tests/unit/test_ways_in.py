"""The ways in side by side: wsgi.py serves the HTTP app alone, and the console's commands are
the same under ``sealtrail`` and ``flask --app wsgi``.

That the HTTP API and the console never import each other, and that nothing imports wsgi.py
back, are import-linter contracts (pyproject.toml); import-linter takes only packages as roots,
so what wsgi.py itself imports is held here.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from api.console import every_command

WSGI = Path(__file__).resolve().parents[2] / "wsgi.py"


def test_wsgi_imports_the_http_app_factory_alone() -> None:
    tree = ast.parse(WSGI.read_text(encoding="utf-8"))
    imported = [
        (node.module, tuple(alias.name for alias in node.names))
        if isinstance(node, ast.ImportFrom)
        else (None, tuple(alias.name for alias in node.names))
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]

    assert imported == [("api.http.app", ("create_app",))]


def test_every_sealtrail_command_is_also_a_flask_command() -> None:
    # Other installed packages add their own (Flask-Limiter's `flask limiter`): ours are ours.
    flask_commands = {
        point.name: point.load()
        for point in entry_points(group="flask.commands")
        if point.value.startswith("api.console.")
    }

    assert flask_commands == every_command()
