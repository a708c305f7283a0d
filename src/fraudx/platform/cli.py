"""Command line: the database schema."""

from __future__ import annotations

import typer

from fraudx.platform import schema
from fraudx.platform.console import err, out
from fraudx.platform.db import Database
from fraudx.platform.settings import Settings

db_app = typer.Typer(help="The node's database.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Schema revision to reach (default: the latest)."),
) -> None:
    """Create or migrate the database schema to the latest version."""
    settings = Settings()
    db = Database(settings.db_url)
    try:
        before = schema.state(db)
        after = schema.upgrade(db, revision)
    finally:
        db.dispose()
    if before.current == after.current:
        err.print(f"schema already at {after.current} ({db.url.render_as_string()})")
    else:
        err.print(f"schema {before.current or 'empty'} -> {after.current}")


@db_app.command("status")
def status() -> None:
    """Show the schema version of the database and the version this FraudX needs."""
    settings = Settings()
    db = Database(settings.db_url)
    try:
        state = schema.state(db)
    finally:
        db.dispose()
    out.print(f"database: {db.url.render_as_string(hide_password=True)}")
    out.print(f"schema:   {state.current or 'empty'} (this FraudX needs {state.head})")
    if not state.up_to_date:
        raise typer.Exit(1)
