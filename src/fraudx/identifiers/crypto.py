"""Crypto wallets: ``CHAIN:ADDRESS`` for Bitcoin, Ethereum (and ERC-20) and Tron (and TRC-20).

Every checksum the address format carries is verified, so that a mistyped address is refused
instead of becoming a second identifier for the same wallet.
"""

from __future__ import annotations

import re

import base58
from bech32 import CHARSET, bech32_hrp_expand, bech32_polymod, convertbits
from Crypto.Hash import keccak

from fraudx.identifiers.kinds import IdentifierKind, reject

_KIND = IdentifierKind.CRYPTO_WALLET
_ALIASES = {
    "btc": "btc",
    "bitcoin": "btc",
    "eth": "eth",
    "ethereum": "eth",
    "erc20": "eth",
    "usdt-erc20": "eth",
    "tron": "tron",
    "trx": "tron",
    "trc20": "tron",
    "usdt-trc20": "tron",
}
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3
_BTC_VERSIONS = {0x00: "P2PKH", 0x05: "P2SH"}
_TRON_VERSION = 0x41
_ETH = re.compile(r"0[xX]([0-9a-fA-F]{40})")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{25,35}")


def parse_wallet(raw: str) -> str:
    text = raw.strip()
    chain: str | None = None
    prefix, colon, rest = text.partition(":")
    if colon:
        chain = _ALIASES.get(prefix.strip().lower())
        if chain is None:
            reject(_KIND, raw, f"unknown chain {prefix.strip()!r} (btc, eth or tron)")
        text = rest.strip()
    if not text:
        reject(_KIND, raw, "the address is missing")
    if chain is None:
        chain = _infer_chain(raw, text)
    if chain == "btc":
        return f"btc:{_bitcoin(raw, text)}"
    if chain == "eth":
        return f"eth:{_ethereum(raw, text)}"
    return f"tron:{_tron(raw, text)}"


def _infer_chain(raw: str, text: str) -> str:
    if text[:3].lower() == "bc1" or text[0] in "13":
        return "btc"
    if text[:2].lower() == "0x":
        return "eth"
    if text[0] == "T":
        return "tron"
    reject(_KIND, raw, "cannot tell the chain: write btc:, eth: or tron: before the address")


def _base58check(raw: str, text: str) -> bytes:
    if not _BASE58.fullmatch(text):
        reject(_KIND, raw, "not a base58 address")
    try:
        payload: bytes = base58.b58decode_check(text)
    except ValueError:
        reject(_KIND, raw, "the base58check checksum does not match")
    if len(payload) != 21:
        reject(_KIND, raw, "a base58 address holds a version byte and a 20-byte hash")
    return payload


def _bitcoin(raw: str, text: str) -> str:
    if text[:3].lower() == "bc1":
        return _segwit(raw, text)
    version = _base58check(raw, text)[0]
    if version not in _BTC_VERSIONS:
        reject(_KIND, raw, f"version byte 0x{version:02x} is not a Bitcoin mainnet address")
    return text


def _segwit(raw: str, text: str) -> str:
    """BIP 173 (bech32, witness v0) and BIP 350 (bech32m, v1 and later), hrp ``bc``."""
    if text != text.lower() and text != text.upper():
        reject(_KIND, raw, "a bech32 address is all lower case or all upper case")
    address = text.lower()
    if len(address) > 90 or any(c not in CHARSET for c in address[3:]):
        reject(_KIND, raw, "not a bech32 address")
    data = [CHARSET.find(c) for c in address[3:]]
    if len(data) < 7:
        reject(_KIND, raw, "the bech32 address is too short")
    const = bech32_polymod(bech32_hrp_expand("bc") + data)
    version = data[0]
    expected = _BECH32_CONST if version == 0 else _BECH32M_CONST
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        reject(_KIND, raw, "the bech32 checksum does not match")
    if const != expected:
        kind = "bech32" if version == 0 else "bech32m"
        reject(_KIND, raw, f"witness version {version} needs the {kind} checksum")
    program = convertbits(data[1:-6], 5, 8, False)
    if version > 16 or program is None or not 2 <= len(program) <= 40:
        reject(_KIND, raw, "not a valid witness program")
    if version == 0 and len(program) not in (20, 32):
        reject(_KIND, raw, "a version 0 witness program has 20 or 32 bytes")
    return address


def _ethereum(raw: str, text: str) -> str:
    match = _ETH.fullmatch(text)
    if match is None:
        reject(_KIND, raw, "an Ethereum address is 0x and 40 hex digits")
    digits = match.group(1)
    lower = digits.lower()
    if digits != lower and digits != digits.upper():
        # EIP-55: mixed case carries a checksum, upper-case letters where keccak's nibble >= 8.
        digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
        for char, nibble in zip(digits, digest, strict=False):
            if char.isalpha() and char.isupper() != (int(nibble, 16) >= 8):
                reject(_KIND, raw, "the EIP-55 mixed-case checksum does not match")
    return "0x" + lower


def _tron(raw: str, text: str) -> str:
    if len(text) != 34 or not text.startswith("T"):
        reject(_KIND, raw, "a Tron address has 34 characters and starts with T")
    if _base58check(raw, text)[0] != _TRON_VERSION:
        reject(_KIND, raw, "not a Tron address (version byte 0x41)")
    return text
