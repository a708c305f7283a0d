"""Scam compounds at the region's real hotspots, their networks and cash-out wallets.

Hotspots are the places named by UNODC (2023, 2024), the US Institute of Peace (2024)
and the governments of the region. IP networks are drawn from public address space in
blocks typical of each country's mobile and satellite providers; they are synthetic and
attribute nothing to any real network.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field

import base58
from Crypto.Hash import keccak


@dataclass(frozen=True, slots=True)
class Hotspot:
    country: str
    place: str
    #: (country, town) of the SIM boxes that turn its calls into local ones.
    sim_box_towns: tuple[tuple[str, str], ...]


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot("MM", "Myawaddy (KK Park)", (("TH", "Mae Sot"),)),
    Hotspot("MM", "Shwe Kokko", (("TH", "Mae Sot"),)),
    Hotspot("MM", "Tachileik", (("TH", "Mae Sai"), ("LA", "Houayxay"))),
    Hotspot("MM", "Laukkaing (Kokang)", (("CN", "Nansan"),)),
    Hotspot("LA", "Golden Triangle SEZ, Bokeo", (("TH", "Chiang Saen"), ("CN", "Mengla"))),
    Hotspot("KH", "Sihanoukville", (("VN", "Ha Tien"), ("TH", "Khlong Yai"))),
    Hotspot("KH", "Bavet", (("VN", "Moc Bai"),)),
    Hotspot("KH", "Poipet", (("TH", "Aranyaprathet"),)),
    Hotspot("KH", "O'Smach", (("TH", "Kap Choeng"),)),
)

#: Public prefixes (/16) that compound networks are carved from, by country, and the
#: satellite provider widely reported in Myawaddy raids (2024-2025).
IP_POOLS: dict[str, tuple[str, ...]] = {
    "MM": ("37.111", "103.25", "136.228"),
    "KH": ("36.37", "103.197", "175.100"),
    "LA": ("115.84", "183.182", "202.137"),
    "TH": ("49.228", "110.168", "171.96"),
    "VN": ("113.160", "171.224", "14.160"),
    "CN": ("36.112", "117.136", "223.104"),
}
SATELLITE_POOL = ("98.97", "129.222")


@dataclass
class Compound:
    compound_id: str
    country: str
    place: str
    sim_box_towns: tuple[tuple[str, str], ...]
    networks: list[str] = field(default_factory=list)
    wallets: list[str] = field(default_factory=list)
    #: Filled by telecom: indices of its SIMs by use ("international", "cross_border",
    #: "sim_box"), and of its handsets.
    sims: dict[str, list[int]] = field(default_factory=dict)


def tron_address(key: bytes) -> str:
    """A TRON address: version byte 0x41 and 20 bytes, Base58Check (double SHA-256)."""
    payload = b"\x41" + keccak.new(digest_bits=256, data=key).digest()[-20:]
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return str(base58.b58encode(payload + check).decode())


def eth_address(key: bytes) -> str:
    """An Ethereum address with its EIP-55 mixed-case checksum (FraudX's canonical form
    is the lower-case address)."""
    raw = keccak.new(digest_bits=256, data=key).digest()[-20:].hex()
    mask = keccak.new(digest_bits=256, data=raw.encode()).hexdigest()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(m, 16) >= 8 else ch
        for ch, m in zip(raw, mask[:40], strict=True)
    )


def _network(r: random.Random, country: str) -> str:
    pool = SATELLITE_POOL if r.random() < 0.25 else IP_POOLS.get(country, ("45.118",))
    base = r.choice(pool)
    size = r.choice((28, 29, 29, 30))
    third, fourth = r.randrange(256), r.randrange(256) & ~((1 << (32 - size)) - 1)
    return f"{base}.{third}.{fourth}/{size}"


def make_compounds(seed: int, countries: tuple[str, ...], per_hotspot: int) -> list[Compound]:
    """Compounds at the hotspots in the chosen countries (or one per country if none)."""
    spots = [h for h in HOTSPOTS if h.country in countries]
    if not spots:
        spots = [Hotspot(c, f"{c} border town", ((c, f"{c} border town"),)) for c in countries]
    r = random.Random(f"{seed}:compounds")
    out: list[Compound] = []
    for spot in spots:
        towns = tuple(t for t in spot.sim_box_towns if t[0] in countries) or (
            (spot.country, spot.place),
        )
        for _ in range(per_hotspot):
            c = Compound(f"SC{len(out) + 1:03d}", spot.country, spot.place, towns)
            c.networks = sorted({_network(r, spot.country) for _ in range(r.randint(1, 3))})
            for _ in range(r.randint(3, 8)):
                key = r.randbytes(32)
                c.wallets.append(
                    f"eth:{eth_address(key).lower()}"
                    if r.random() < 0.2
                    else f"tron:{tron_address(key)}"
                )
            out.append(c)
    return out
