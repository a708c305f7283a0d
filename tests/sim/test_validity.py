"""Every identifier the simulator writes is valid by an independent check."""

from __future__ import annotations

import base58
import phonenumbers
import pyarrow.compute as pc
from Crypto.Hash import keccak
from stdnum import imei as stdnum_imei
from stdnum import luhn
from stdnum.cn import ric
from stdnum.th import pin

from fraudx.identifiers import parse
from fraudx.sim.compounds import eth_address
from tests.sim.conftest import Region


def test_every_phone_number_is_valid(region: Region) -> None:
    numbers = set(region.table("sims").column("msisdn").to_pylist())
    calls = region.table("calls")
    numbers |= set(calls.column("caller").to_pylist()) | set(calls.column("callee").to_pylist())
    assert len(numbers) > 1_000
    bad = [n for n in numbers if not phonenumbers.is_valid_number(phonenumbers.parse(n))]
    assert bad == []


def test_msisdns_are_distinct_and_in_their_country(region: Region) -> None:
    sims = region.table("sims")
    msisdn = sims.column("msisdn").to_pylist()
    assert len(set(msisdn)) == len(msisdn)
    for number, country in zip(msisdn, sims.column("country").to_pylist(), strict=True):
        assert phonenumbers.region_code_for_number(phonenumbers.parse(number)) == country


def test_thai_and_chinese_national_ids_pass_stdnum(region: Region) -> None:
    people = region.table("people")
    checked = 0
    for country, value in zip(
        people.column("country").to_pylist(), people.column("national_id").to_pylist(), strict=True
    ):
        if country == "TH":
            assert pin.is_valid(value), value
            checked += 1
        elif country == "CN":
            assert ric.is_valid(value), value
            checked += 1
    assert checked > 500


def test_other_national_ids_have_their_country_shape(region: Region) -> None:
    people = region.table("people").to_pylist()
    shapes = {
        "VN": lambda v: len(v) == 12 and v.isdigit(),
        "KH": lambda v: len(v) == 9 and v.isdigit(),
        "LA": lambda v: len(v) == 9 and v.isdigit(),
        "MM": lambda v: "/" in v and "(N)" in v and v[-6:].isdigit(),
    }
    for p in people:
        if p["country"] in shapes:
            assert shapes[p["country"]](p["national_id"]), p


def test_every_imei_is_luhn_valid(region: Region) -> None:
    values = set(region.table("handsets").column("imei").to_pylist())
    values |= set(region.table("sims").column("imei").to_pylist())
    values |= set(region.table("calls").column("caller_imei").to_pylist())
    assert len(values) > 1_000
    for value in values:
        assert stdnum_imei.is_valid(value), value
        assert luhn.is_valid(value), value


def test_imsis_start_with_the_countrys_mobile_country_code(region: Region) -> None:
    mcc = {"CN": "460", "KH": "456", "LA": "457", "MM": "414", "TH": "520", "VN": "452"}
    for row in region.table("sims").select(["imsi", "country"]).to_pylist():
        assert len(row["imsi"]) == 15
        assert row["imsi"].startswith(mcc[row["country"]])


def _eip55(address: str) -> bool:
    raw = address[2:].lower()
    mask = keccak.new(digest_bits=256, data=raw.encode()).hexdigest()
    expected = "".join(
        c.upper() if c.isalpha() and int(m, 16) >= 8 else c for c, m in zip(raw, mask, strict=False)
    )
    return address[2:] == expected


def test_eth_addresses_carry_the_eip55_checksum() -> None:
    for i in range(20):
        address = eth_address(bytes([i]) * 32)
        assert len(address) == 42
        assert _eip55(address)


def test_every_wallet_is_a_valid_canonical_address(region: Region) -> None:
    wallets = region.table("wallets").column("wallet").to_pylist()
    assert {w.split(":")[0] for w in wallets} == {"tron", "eth"}
    for wallet in wallets:
        assert parse("crypto_wallet", wallet).value == wallet
        chain, address = wallet.split(":", 1)
        if chain == "tron":
            payload = base58.b58decode_check(address)
            assert payload[0] == 0x41
            assert len(payload) == 21


def test_every_account_parses_to_itself(region: Region) -> None:
    accounts = set(region.table("accounts").column("account").to_pylist())
    transfers = region.table("transfers")
    for column in ("from_account", "to_account"):
        accounts |= set(pc.unique(transfers.column(column)).to_pylist())
    assert len(accounts) > 1_000
    for value in sorted(accounts):
        kind = "crypto_wallet" if value.startswith(("tron:", "eth:")) else "bank_account"
        assert parse(kind, value).value == value


def test_every_sim_and_truth_identifier_parses_to_itself(region: Region) -> None:
    for row in region.table("sims").select(["msisdn", "imsi", "imei"]).to_pylist():
        assert parse("phone", row["msisdn"]).value == row["msisdn"]
        assert parse("imsi", row["imsi"]).value == row["imsi"]
        assert parse("imei", row["imei"]).value == row["imei"]
    for row in region.table("truth/identifiers").to_pylist():
        assert parse(row["kind"], row["value"]).value == row["value"], row
