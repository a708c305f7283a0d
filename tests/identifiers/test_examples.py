"""Examples per kind: what a spelling becomes, or why it is refused."""

from __future__ import annotations

import pytest
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod, convertbits

from fraudx.identifiers import IdentifierKind, InvalidIdentifier, country_of, parse

GOOD = [
    # phone
    ("phone", "+66 81 234 5678", None, "+66812345678"),
    ("phone", "081-234-5678", "TH", "+66812345678"),
    ("phone", "0066812345678", None, "+66812345678"),
    ("phone", "(081) 234.5678", "th", "+66812345678"),
    ("phone", "+86 131 2345 6789", "VN", "+8613123456789"),
    # bank_account
    ("bank_account", "TH:KBANK:123-4-56789-0", None, "TH:004:1234567890"),
    ("bank_account", "th:004:1234567890", None, "TH:004:1234567890"),
    ("bank_account", "KASITHBK:1234567890", None, "TH:004:1234567890"),
    ("bank_account", "KASITHBKXXX:1234567890", None, "TH:004:1234567890"),
    ("bank_account", "TH:KASITHBK:1234567890", None, "TH:004:1234567890"),
    ("bank_account", "KBANK:123-4-56789-0", "TH", "TH:004:1234567890"),
    ("bank_account", "TH : scb : 111.222.3333", None, "TH:014:1112223333"),
    ("bank_account", "TH:GSB:0200 1234 5678", None, "TH:030:020012345678"),
    ("bank_account", "CN:ICBC:6222 0212 3456 7890 128", None, "CN:102:6222021234567890128"),
    ("bank_account", "CN:工商银行:6222021234567890128", None, "CN:102:6222021234567890128"),
    ("bank_account", "VN:VCB:0071000123456", None, "VN:970436:0071000123456"),
    ("bank_account", "VN:Vietcombank:9704366800000000017", None, "VN:970436:9704366800000000017"),
    ("bank_account", "ABAAKHPP:000 123 456", None, "KH:ABA:000123456"),
    (
        "bank_account",
        "BCEL:010-12-00-12345678-001",
        "LA",
        "LA:BCEL:0101200123456780 01".replace(" ", ""),
    ),
    ("bank_account", "MM:KBZ:0273 0102 7001 2345 6", None, "MM:KBZ:02730102700123456"),
    # ip
    ("ip", "203.0.113.7/24", None, "203.0.113.0/24"),
    ("ip", "203.0.113.7/32", None, "203.0.113.7"),
    ("ip", " 2001:0DB8:0000::0001 ", None, "2001:db8::1"),
    ("ip", "2001:db8::1/128", None, "2001:db8::1"),
    ("ip", "2001:db8::1/64", None, "2001:db8::/64"),
    ("ip", "::ffff:198.51.100.1", None, "198.51.100.1"),
    ("ip", "::ffff:198.51.100.0/120", None, "198.51.100.0/24"),
    ("ip", "10.0.0.0/255.0.0.0", None, "10.0.0.0/8"),
    # url
    ("url", "HTTP://Example.COM:80/a/./b/../c?x=1#frag", None, "http://example.com/a/c?x=1"),
    ("url", "https://example.com:443", None, "https://example.com/"),
    ("url", "https://example.com:8443/", None, "https://example.com:8443/"),
    ("url", "example.com/login", None, "http://example.com/login"),
    ("url", "//example.com/login", None, "http://example.com/login"),
    ("url", "https://bücher.de/ä?q=Ä", None, "https://xn--bcher-kva.de/ä?q=Ä"),
    ("url", "http://user:pw@Example.com/", None, "http://user:pw@example.com/"),
    ("url", "http://203.0.113.9:8080/x/..", None, "http://203.0.113.9:8080/"),
    ("url", "http://[2001:DB8::1]/", None, "http://[2001:db8::1]/"),
    ("url", "ftp://files.example.org/pub", None, "ftp://files.example.org/pub"),
    ("url", "http://a.example/%7Efoo?Q=%7E", None, "http://a.example/%7Efoo?Q=%7E"),
    # domain
    ("domain", "Example.COM.", None, "example.com"),
    ("domain", "Bücher.de", None, "xn--bcher-kva.de"),
    ("domain", "xn--bcher-kva.de", None, "xn--bcher-kva.de"),
    ("domain", "ธนาคาร.ไทย", None, "xn--42c3bd5b5db.xn--o3cw4h"),
    ("domain", "login.scb-th.com", None, "login.scb-th.com"),
    # email
    ("email", "John.Doe@Example.COM", None, "John.Doe@example.com"),
    ("email", "mailto:victim@Bücher.de", None, "victim@xn--bcher-kva.de"),
    # crypto_wallet
    (
        "crypto_wallet",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        None,
        "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    ),
    (
        "crypto_wallet",
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        None,
        "btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    ),
    (
        "crypto_wallet",
        "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
        None,
        "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ),
    (
        "crypto_wallet",
        "bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        None,
        "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ),
    (
        "crypto_wallet",
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
        None,
        "btc:bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",
    ),
    (
        "crypto_wallet",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        None,
        "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    ),
    (
        "crypto_wallet",
        "ERC20:0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
        None,
        "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
    ),
    (
        "crypto_wallet",
        "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        None,
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    ),
    (
        "crypto_wallet",
        "USDT-TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
        None,
        "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    ),
    # imei / imsi
    ("imei", "49-015420-323751-8", None, "490154203237518"),
    ("imei", "49 015420 323751", None, "490154203237518"),
    ("imsi", "520 03 1234567890", None, "520031234567890"),
    ("imsi", "46000123456789", None, "46000123456789"),
]

BAD = [
    ("phone", "+66 12345", None, "too short"),
    ("phone", "0212345678", None, "needs a region"),
    ("phone", "+66 11 234 5678", None, "not a valid number in TH"),
    ("phone", "+999 1234567", None, "country calling code"),
    ("phone", "+66 81 234 5678 9012 345", None, "too long"),
    ("phone", "1-800-FLOWERS", "US", "only digits"),
    ("phone", "+66 81+234", None, "'+'"),
    ("bank_account", "TH:KBANK:12345", None, "KBANK account numbers have 10 digits, got 5"),
    ("bank_account", "TH:XYZ:1234567890", None, "unknown bank 'XYZ' in TH"),
    ("bank_account", "US:CHASE:1234567890", None, "unknown bank 'CHASE' in US"),
    ("bank_account", "TH:SICOTHBK:1234567890x", None, "only have digits"),
    ("bank_account", "TH:BKCHCNBJ:1234567890", None, "not a bank in TH"),
    ("bank_account", "KBANK:1234567890", None, "no country"),
    ("bank_account", "ZZZZZZZZ:1234567890", None, "unknown BIC"),
    ("bank_account", "CN:ICBC:6222021234567890127", None, "card number fails the Luhn check"),
    ("bank_account", "TH:KBANK:4111111111111112", None, "card number fails the Luhn check"),
    ("bank_account", "TH:KBANK", None, "CC:BANK:ACCOUNT"),
    ("bank_account", "THA:KBANK:1234567890", None, "country code"),
    ("ip", "010.1.1.1", None, "leading zeros"),
    ("ip", "256.1.1.1", None, "does not appear"),
    ("ip", "10.0.0.0/33", None, "does not appear"),
    ("ip", "fe80::1%eth0", None, "zone"),
    ("url", "javascript:alert(1)", None, "only http"),
    ("url", "mailto:a@example.com", None, "only http"),
    ("url", "gopher://example.com/", None, "only http"),
    ("url", "http://exa mple.com/", None, "spaces"),
    ("url", "http://localhost/", None, "two labels"),
    ("url", "http://bank.example\\@evil.example/", None, "backslashes"),
    ("url", "http://example.com:99999/", None, "not a URL"),
    ("url", "http:///path", None, "host is missing"),
    ("domain", "localhost", None, "two labels"),
    ("domain", "example.123", None, "top-level domain"),
    ("domain", "-bad-.com", None, "hyphen"),
    ("domain", "a" * 64 + ".com", None, "too long"),
    ("email", "no-at-sign.example.com", None, "local-part@domain"),
    ("email", "a b@example.com", None, "local part"),
    ("email", "a@localhost", None, "two labels"),
    ("crypto_wallet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", None, "checksum"),
    ("crypto_wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdz", None, "checksum"),
    (
        "crypto_wallet",
        "bc1qAR0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        None,
        "lower case or all upper",
    ),
    ("crypto_wallet", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", None, "EIP-55"),
    ("crypto_wallet", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", None, "40 hex"),
    ("crypto_wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", None, "checksum"),
    ("crypto_wallet", "tron:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", None, "starts with T"),
    ("crypto_wallet", "doge:DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", None, "unknown chain"),
    ("crypto_wallet", "xyz", None, "cannot tell the chain"),
    ("imei", "490154203237519", None, "Luhn"),
    ("imei", "4901542032", None, "15 digits"),
    ("imei", "49015420323751A", None, "only digits"),
    ("imsi", "999031234567890", None, "not a known mobile country code"),
    ("imsi", "5200312345", None, "14 or 15 digits"),
]


@pytest.mark.parametrize(("kind", "raw", "region", "value"), GOOD)
def test_good(kind: str, raw: str, region: str | None, value: str) -> None:
    identifier = parse(kind, raw, region=region)
    assert identifier.kind == IdentifierKind(kind)
    assert identifier.value == value


@pytest.mark.parametrize(("kind", "raw", "region", "reason"), BAD)
def test_bad(kind: str, raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        parse(kind, raw, region=region)
    error = caught.value
    assert reason in error.reason
    assert error.kind == kind
    assert error.raw == raw
    assert error.field == "value"


@pytest.mark.parametrize(
    ("kind", "raw", "country"),
    [
        ("phone", "+66812345678", "TH"),
        ("phone", "+8613123456789", "CN"),
        ("phone", "+85591234567", "KH"),
        ("phone", "+8562023123456", "LA"),
        ("phone", "+9592123456", "MM"),
        ("phone", "+84912345678", "VN"),
        ("bank_account", "TH:004:1234567890", "TH"),
        ("imsi", "460001234567890", "CN"),
        ("imsi", "456011234567890", "KH"),
        ("imsi", "414011234567890", "MM"),
        ("imsi", "310150123456789", "US"),
        ("ip", "203.0.113.7", None),
        ("domain", "example.com", None),
        ("crypto_wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", None),
        ("imei", "490154203237518", None),
    ],
)
def test_country_of(kind: str, raw: str, country: str | None) -> None:
    assert country_of(parse(kind, raw)) == country


def _segwit(version: int, program: bytes, const: int) -> str:
    data = [version, *convertbits(program, 8, 5)]
    polymod = bech32_polymod(bech32_hrp_expand("bc") + data + [0] * 6) ^ const
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(CHARSET[d] for d in data + checksum)


def test_segwit_versions_need_their_own_checksum() -> None:
    """BIP 350: v0 uses bech32, v1 and later bech32m; the other one is refused."""
    program = bytes(range(32))
    assert parse("crypto_wallet", _segwit(1, program, 0x2BC830A3)).value.startswith("btc:bc1p")
    assert parse("crypto_wallet", _segwit(0, program, 1)).value.startswith("btc:bc1q")
    with pytest.raises(InvalidIdentifier, match="bech32m checksum"):
        parse("crypto_wallet", _segwit(1, program, 1))
    with pytest.raises(InvalidIdentifier, match="needs the bech32 checksum"):
        parse("crypto_wallet", _segwit(0, program, 0x2BC830A3))
    with pytest.raises(InvalidIdentifier, match="20 or 32 bytes"):
        parse("crypto_wallet", _segwit(0, program[:25], 1))
