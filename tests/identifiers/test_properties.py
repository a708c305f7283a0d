"""Hypothesis: canonical forms are fixed points, and junk raises only InvalidIdentifier."""

from __future__ import annotations

import hashlib
import ipaddress

import base58
import phonenumbers
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod, convertbits
from Crypto.Hash import keccak
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fraudx.identifiers import IdentifierKind, InvalidIdentifier, bank_directory, parse
from fraudx.identifiers.checksum import luhn_check_digit
from fraudx.identifiers.device import mcc_countries

REGIONS = ["CN", "KH", "LA", "MM", "TH", "VN", "US", "GB", "SG", "MY", "PH", "IN"]


def fixed_point(kind: IdentifierKind, raw: str, region: str | None = None) -> None:
    first = parse(kind, raw, region=region)
    again = parse(kind, first.value)
    assert again == first, (raw, first.value, again.value)


# -- valid values, generated -------------------------------------------------------------


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from(REGIONS))
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.parse(national[:-4] + tail, region)
    assume(phonenumbers.is_valid_number(number))
    style = draw(
        st.sampled_from(
            [
                phonenumbers.PhoneNumberFormat.E164,
                phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                phonenumbers.PhoneNumberFormat.NATIONAL,
            ]
        )
    )
    return phonenumbers.format_number(number, style), region


@st.composite
def bank_accounts(draw: st.DrawFn) -> str:
    bank = draw(st.sampled_from(bank_directory().banks()))
    if bank.card_bins and draw(st.booleans()):
        bin_ = draw(st.sampled_from(bank.card_bins))
        body = bin_ + draw(st.text("0123456789", min_size=15 - len(bin_), max_size=15 - len(bin_)))
        number = body + str(luhn_check_digit(body))
    else:
        length = draw(st.sampled_from(bank.account_lengths or (8, 10, 12, 13, 15)))
        number = draw(st.text("0123456789", min_size=length, max_size=length))
        assume(not number.startswith(bank.card_bins) or len(number) < 16)
    token = draw(st.sampled_from([bank.code, bank.bic, *bank.short_names]))
    sep = draw(st.sampled_from(["", " ", "-", "."]))
    spaced = sep.join(number[i : i + 4] for i in range(0, len(number), 4))
    if token == bank.bic and draw(st.booleans()):
        return f"{token}:{spaced}"
    return f"{bank.country.lower()}:{token}:{spaced}"


labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
tlds = st.sampled_from(["com", "net", "org", "th", "vn", "cn", "kh", "la", "mm", "xn--o3cw4h"])
domains = st.builds(
    lambda ls, tld: ".".join([*ls, tld]), st.lists(labels, min_size=1, max_size=4), tlds
)
unicode_domains = st.sampled_from(["bücher.de", "ธนาคาร.ไทย", "例子.中国", "ngân-hàng.vn"])


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp", ""]))
    host = draw(domains | unicode_domains)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    segments = draw(
        st.lists(st.sampled_from(["a", "b", ".", "..", "login", "%7Ex", "ä"]), max_size=5)
    )
    query = draw(st.sampled_from(["", "?x=1", "?a=b&c=%20"]))
    fragment = draw(st.sampled_from(["", "#top"]))
    prefix = f"{scheme}://" if scheme else ""
    return f"{prefix}{host}{port}/{'/'.join(segments)}{query}{fragment}"


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = draw(
        st.from_regex(r"[A-Za-z0-9_+]([A-Za-z0-9_+.-]{0,20}[A-Za-z0-9_+])?", fullmatch=True)
    )
    assume(".." not in local)
    return f"{local}@{draw(domains | unicode_domains)}"


def _bech32_address(version: int, program: bytes) -> str:
    data = [version, *convertbits(program, 8, 5)]
    const = 1 if version == 0 else 0x2BC830A3
    polymod = bech32_polymod(bech32_hrp_expand("bc") + data + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(CHARSET[d] for d in data + checksum)


def _eip55(hex40: str) -> str:
    digest = keccak.new(digest_bits=256, data=hex40.encode()).hexdigest()
    return "0x" + "".join(
        c.upper() if int(n, 16) >= 8 else c for c, n in zip(hex40, digest[:40], strict=True)
    )


@st.composite
def wallets(draw: st.DrawFn) -> str:
    payload = draw(st.binary(min_size=20, max_size=20))
    form = draw(st.sampled_from(["p2pkh", "p2sh", "v0", "v0-32", "v1", "eth", "eth55", "tron"]))
    if form == "p2pkh":
        return base58.b58encode_check(b"\x00" + payload).decode()
    if form == "p2sh":
        return base58.b58encode_check(b"\x05" + payload).decode()
    if form == "v0":
        return _bech32_address(0, payload)
    if form == "v0-32":
        return _bech32_address(0, hashlib.sha256(payload).digest()).upper()
    if form == "v1":
        return _bech32_address(1, hashlib.sha256(payload).digest())
    if form == "eth":
        return "eth:0x" + payload.hex()
    if form == "eth55":
        return _eip55(payload.hex())
    return "trx:" + base58.b58encode_check(b"\x41" + payload).decode()


@st.composite
def ips(draw: st.DrawFn) -> str:
    address = draw(st.ip_addresses())
    if draw(st.booleans()):
        return str(address)
    prefix = draw(st.integers(0, address.max_prefixlen))
    return f"{address}/{prefix}"


imeis = st.text("0123456789", min_size=14, max_size=14)
imsis = st.builds(
    lambda mcc, rest: mcc + rest,
    st.sampled_from(sorted(mcc_countries())),
    st.text("0123456789", min_size=11, max_size=12),
)


# -- properties ------------------------------------------------------------------------


@given(phones())
def test_phone_fixed_point(case: tuple[str, str]) -> None:
    raw, region = case
    fixed_point(IdentifierKind.PHONE, raw, region)


@given(bank_accounts())
def test_bank_account_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.BANK_ACCOUNT, raw)


@given(ips())
def test_ip_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.IP, raw)
    value = parse(IdentifierKind.IP, raw).value
    ipaddress.ip_network(value)  # always a valid address or network


@given(urls())
def test_url_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.URL, raw)


@given(domains | unicode_domains)
def test_domain_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.DOMAIN, raw)
    fixed_point(IdentifierKind.DOMAIN, raw.upper() + ".")


@given(emails())
def test_email_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.EMAIL, raw)


@given(wallets())
def test_wallet_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.CRYPTO_WALLET, raw)


@given(imeis)
def test_imei_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.IMEI, raw)


@given(imsis)
def test_imsi_fixed_point(raw: str) -> None:
    fixed_point(IdentifierKind.IMSI, raw)


junk = (
    st.text(max_size=80)
    | st.binary(max_size=80).map(lambda b: b.decode("latin-1"))
    | st.from_regex(r"[0-9A-Za-z:+./@\-_ %\[\]]{0,60}", fullmatch=True)
    | st.text(alphabet="0123456789:.-/ +", max_size=40)
)
regions = st.sampled_from([None, "TH", "cn", "VN", "ZZ", "", "THA", "001"])


@settings(max_examples=400)
@given(st.sampled_from(list(IdentifierKind)), junk, regions)
def test_junk_raises_only_invalid_identifier(
    kind: IdentifierKind, raw: str, region: str | None
) -> None:
    try:
        identifier = parse(kind, raw, region=region)
    except InvalidIdentifier as error:
        reason = error.reason
    else:
        reason = "accepted"
        assert parse(kind, identifier.value) == identifier
    assert reason
