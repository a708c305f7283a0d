"""``fraudx indicator …`` and ``fraudx lookup`` as an officer uses them: on the local
database as an agency, and on a running node through its API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fraudx.cli import run
from fraudx.platform.agencies.model import Role
from fraudx.platform.settings import Settings
from tests.conftest import Agencies


@pytest.fixture
def cli(settings: Settings, agencies: Agencies, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The command line pointed at the test database, with the test agencies in it."""
    monkeypatch.setenv("FRAUDX_HOME", str(settings.home))
    monkeypatch.setenv("FRAUDX_DATABASE_URL", settings.db_url)
    monkeypatch.delenv("FRAUDX_TOKEN", raising=False)
    return settings


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_list_lookup_revoke_as_an_agency(
    cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        capsys,
        *("indicator", "add", "bank_account", "KBANK:123-4-56789-0"),
        *("--category", "mule_account", "--confidence", "80", "--tag", "myawaddy"),
        *("--agency", "TH-CCIB"),
    )
    assert code == 0
    assert "reported" in out
    assert "bank_account:TH:004:1234567890" in out
    indicator_id = out.split()[1]

    code, out, _ = _run(
        capsys, "lookup", "bank_account", "TH:004:1234567890", "--agency", "TH-KBANK"
    )
    assert code == 0
    assert out.startswith("LISTED bank_account:TH:004:1234567890")
    assert "TH-CCIB" not in out  # a bank acts as a partner: never told who reported
    code, _, err = _run(
        capsys,
        *("indicator", "add", "phone", "0812345670", "--category", "scam_call"),
        *("--agency", "TH-KBANK"),
    )
    assert code != 0
    assert "analyst" in err  # partners screen and report sightings; they do not list
    code, out, _ = _run(
        capsys, "lookup", "bank_account", "TH:004:1234567890", "--json", "--agency", "TH-CCIB"
    )
    assert code == 0
    assert json.loads(out)["indicators"][0]["id"] == indicator_id
    code, out, _ = _run(capsys, "lookup", "phone", "0812345678", "--agency", "TH-KBANK")
    assert code == 4
    assert "not listed phone:+66812345678" in out

    code, out, _ = _run(capsys, "indicator", "list", "--json", "--agency", "TH-CCIB")
    assert [i["id"] for i in json.loads(out)["items"]] == [indicator_id]

    code, out, _ = _run(
        capsys, "indicator", "revoke", indicator_id, "--reason", "resolved", "--agency", "TH-CCIB"
    )
    assert code == 0
    assert "resolved" in out
    assert (
        _run(capsys, "lookup", "bank_account", "TH:004:1234567890", "--agency", "TH-KBANK")[0] == 4
    )


def test_errors_are_one_line(cli: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    police = ("--agency", "TH-CCIB")
    for argv, message in [
        (("indicator", "add", "phone", "12", "--category", "scam_call", *police), "too short"),
        (("indicator", "add", "phone", "+66812345678", "--category", "x", *police), "category"),
        (("indicator", "list"), "--agency"),
        (("indicator", "list", "--agency", "XX-NOPE"), "XX-NOPE"),
        (("lookup", "phone", "+66812345678", "--url", "http://127.0.0.1:9"), "FRAUDX_TOKEN"),
    ]:  # fmt: skip
        code, _, err = _run(capsys, *argv)
        assert code != 0, argv
        assert message in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err


def test_import_and_export_files(
    cli: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "reports.csv"
    source.write_text(
        "kind,value,category,confidence,tags\n"
        "phone,0812345678,scam_call,80,myawaddy\n"
        "phone,0812,scam_call,80,\n"
        "ip,203.0.113.9/24,scam_compound_network,90,\n",
        encoding="utf-8",
    )
    code, out, err = _run(capsys, "indicator", "import", str(source), "--agency", "TH-CCIB")
    assert code == 3  # stored, but some rows were bad
    assert "accepted 2" in out
    assert "line 3: value: too short" in err

    code, out, _ = _run(
        capsys, "indicator", "import", str(source), "--atomic", "--agency", "TH-CCIB"
    )
    assert code == 1
    assert "nothing stored" in out

    exported = tmp_path / "all.jsonl"
    code, _, _ = _run(
        capsys,
        "indicator",
        "export",
        "--format",
        "jsonl",
        "-o",
        str(exported),
        "--agency",
        "TH-CCIB",
    )
    assert code == 0
    values = sorted(json.loads(line)["value"] for line in exported.read_text().splitlines())
    assert values == ["+66812345678", "203.0.113.0/24"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_same_commands_against_a_running_node(
    cli: Settings,
    agencies: Agencies,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "fraudx", "serve", "--port", str(port), "--log-level", "warning"],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        monkeypatch.setenv("FRAUDX_TOKEN", agencies.token("TH-CCIB", Role.ANALYST))
        code, out, err = _run(
            capsys,
            "indicator",
            "add",
            "phone",
            "081 234 5678",
            "--category",
            "scam_call",
            "--url",
            url,
        )
        assert code == 0, err
        source = tmp_path / "more.jsonl"
        source.write_text(
            '{"kind": "domain", "value": "Lucky-Parcel.example", "category": "scam_website"}\n'
        )
        code, out, err = _run(capsys, "indicator", "import", str(source), "--url", url)
        assert code == 0, err
        assert "accepted 1" in out

        monkeypatch.setenv("FRAUDX_TOKEN", agencies.token("TH-KBANK", Role.PARTNER))
        code, out, _ = _run(capsys, "lookup", "domain", "lucky-parcel.example", "--url", url)
        assert code == 0
        assert "LISTED" in out
        code, _, err = _run(capsys, "indicator", "list", "--url", url)  # partners may not list
        assert code == 1
        assert "403" in err

        monkeypatch.setenv("FRAUDX_TOKEN", "fxt_not-a-token")
        code, _, err = _run(capsys, "lookup", "phone", "0812345678", "--url", url)
        assert code == 1
        assert "401" in err
    finally:
        server.terminate()
        server.wait(30)
