"""Command line: agencies and API tokens."""

from __future__ import annotations

import json

import typer
from rich.table import Column, Table

from fraudx.platform.agencies.model import AgencyKind, Role
from fraudx.platform.console import local_operator, open_platform, out

agency_app = typer.Typer(help="Agencies known to this node.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens (stored hashed; shown once).", no_args_is_help=True)


@agency_app.command("add")
def add_agency(
    code: str = typer.Argument(..., help="Agency code, country first, e.g. TH-CCIB."),
    name: str = typer.Option(..., "--name", help="Full name of the agency."),
    country: str = typer.Option(..., "--country", help="ISO 3166 alpha-2 country code."),
    kind: AgencyKind = typer.Option(..., "--kind", help="What kind of agency it is."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA timezone (default: the country's main one)."
    ),
) -> None:
    """Register an agency."""
    with open_platform() as platform:
        agency = platform.agencies.add(local_operator(), code, name, country, kind.value, timezone)
    out.print(
        f"added {agency.code} ({agency.name}, {agency.country}, {agency.kind.value}, "
        f"{agency.timezone})"
    )


@agency_app.command("list")
def list_agencies(
    country: str | None = typer.Option(None, "--country", help="Only this country."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """List agencies."""
    with open_platform() as platform:
        agencies = platform.agencies.list(local_operator(), country)
    if as_json:
        for a in agencies:
            out.print_json(
                json.dumps(
                    {
                        "code": a.code,
                        "name": a.name,
                        "country": a.country,
                        "kind": a.kind.value,
                        "timezone": a.timezone,
                    }
                ),
                indent=None,
            )
        return
    table = Table("code", "name", "country", "kind", "timezone")
    for a in agencies:
        table.add_row(a.code, a.name, a.country, a.kind.value, a.timezone)
    out.print(table)


@token_app.command("create")
def create_token(
    agency: str = typer.Option(..., "--agency", help="Agency code the token belongs to."),
    role: Role = typer.Option(..., "--role", help="What the token may do."),
    name: str | None = typer.Option(None, "--name", help="A name to recognise the token by."),
) -> None:
    """Issue a token and print it alone on stdout (it cannot be shown again)."""
    with open_platform() as platform:
        issued = platform.tokens.create(local_operator(), agency, role.value, name)
    print(issued.secret)


@token_app.command("list")
def list_tokens(
    agency: str | None = typer.Option(None, "--agency", help="Only this agency's tokens."),
) -> None:
    """List tokens (never their secrets)."""
    with open_platform() as platform:
        tokens = platform.tokens.list(local_operator(), agency)
    table = Table("agency", "role", "name", "created", "last used", "revoked")
    # The id is what `token revoke` takes: never let the table cut it short.
    table.columns.insert(0, Column("id", no_wrap=True, min_width=36))
    for t in tokens:
        table.add_row(
            t.id,
            t.agency_code,
            t.role.value,
            t.name,
            f"{t.created_at:%Y-%m-%d}",
            f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "-",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "-",
        )
    out.print(table)


@token_app.command("revoke")
def revoke_token(token_id: str = typer.Argument(..., help="Token id (see token list).")) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with open_platform() as platform:
        token = platform.tokens.revoke(local_operator(), token_id)
    out.print(f"revoked {token.id} ({token.agency_code} {token.role.value})")
