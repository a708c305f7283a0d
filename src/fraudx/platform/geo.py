"""Countries and their timezones, from the IANA tables that the tzdata package ships."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _countries() -> dict[str, str]:
    text = resources.files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text("utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            table[code] = name.strip()
    return table


@cache
def _zones_by_country() -> dict[str, list[str]]:
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _coords, zone = line.split("\t")[:3]
            table.setdefault(code, []).append(zone)
    return table


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case)."""
    return code in _countries()


def country_name(code: str) -> str:
    return _countries().get(code, code)


def default_timezone(country: str) -> str | None:
    """The country's principal timezone (the first one IANA lists), or None."""
    zones = _zones_by_country().get(country)
    return zones[0] if zones else None
