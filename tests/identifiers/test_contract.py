"""The public API of fraudx.identifiers is a contract other packages are written against."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import fraudx.identifiers as identifiers
from fraudx.identifiers import Identifier, IdentifierKind, InvalidIdentifier, parse
from fraudx.platform import errors

PUBLIC = [
    "IdentifierKind",
    "Identifier",
    "parse",
    "country_of",
    "Bank",
    "BankDirectory",
    "bank_directory",
    "InvalidIdentifier",
]


def test_all_is_the_public_api() -> None:
    assert sorted(identifiers.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(identifiers, name)


def test_invalid_identifier_is_the_platform_error() -> None:
    assert InvalidIdentifier is errors.InvalidIdentifier


def test_kinds() -> None:
    assert [k.value for k in IdentifierKind] == [
        "phone",
        "bank_account",
        "ip",
        "url",
        "domain",
        "email",
        "crypto_wallet",
        "imei",
        "imsi",
    ]


def test_identifier_is_frozen_ordered_and_prints_kind_and_value() -> None:
    a = Identifier(IdentifierKind.IP, "10.0.0.1")
    b = Identifier(IdentifierKind.IP, "10.0.0.2")
    assert str(a) == "ip:10.0.0.1"
    assert a < b
    assert hash(a) == hash(Identifier(IdentifierKind.IP, "10.0.0.1"))
    with pytest.raises(AttributeError):
        a.value = "x"  # type: ignore[misc]


def test_kind_may_be_given_as_text() -> None:
    assert parse("IP", "10.0.0.1") == parse(IdentifierKind.IP, "10.0.0.1")


def test_package_is_pure() -> None:
    """No framework, no network, no database: only its own data files are read."""
    banned = {"fastapi", "starlette", "sqlalchemy", "alembic", "httpx", "typer", "uvicorn",
              "rich", "socket", "requests", "urllib3", "sqlite3", "subprocess"}  # fmt: skip
    root = Path(identifiers.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"
                if name.startswith("fraudx."):
                    assert name.split(".")[1] in {"identifiers", "platform"}, name


def test_data_files_ship_with_the_package() -> None:
    root = Path(identifiers.__file__).parent / "data"
    assert (root / "banks.csv").is_file()
    assert (root / "mcc.csv").is_file()


@pytest.mark.parametrize(
    ("kind", "raw", "region"),
    [
        ("phonebook", "+66812345678", None),
        ("phone", 66812345678, None),
        ("phone", None, None),
        ("phone", b"+66812345678", None),
        ("phone", "", None),
        ("phone", "   ", None),
        ("phone", "1" * 2049, None),
        ("phone", "0812345678", "XX"),
        ("phone", "0812345678", "THA"),
        ("phone", "0812345678", 66),
        (None, "x", None),
        (3, "x", None),
    ],
)
def test_bad_calls_raise_only_invalid_identifier(kind: object, raw: object, region: object) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse(kind, raw, region=region)  # type: ignore[arg-type]
    assert caught.value.reason
