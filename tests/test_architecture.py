"""Contracts about the shape of the code that reviews alone would let slip."""

from __future__ import annotations

import ast
from pathlib import Path

import fraudx

SRC = Path(fraudx.__file__).parent
FRAMEWORKS = {"fastapi", "starlette", "sqlalchemy", "alembic", "httpx", "typer", "uvicorn", "rich"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_models_import_no_framework() -> None:
    models = sorted(SRC.rglob("model.py"))
    assert models, "no model.py found"
    for path in models:
        leaked = _imports(path) & FRAMEWORKS
        assert not leaked, f"{path.relative_to(SRC)} imports {sorted(leaked)}"


def test_platform_imports_no_capability() -> None:
    """Dependencies point one way: the platform is below every capability."""
    for path in (SRC / "platform").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("fraudx."):
                package = (node.module or "").split(".")[1]
                assert package == "platform", (
                    f"{path.relative_to(SRC)} imports fraudx.{package}: platform is below it"
                )


def test_no_module_is_a_monster() -> None:
    for path in SRC.rglob("*.py"):
        lines = len(path.read_text("utf-8").splitlines())
        assert lines < 700, f"{path.relative_to(SRC)} has {lines} lines: split it"
