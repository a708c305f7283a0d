"""The look-up hot path: an in-memory index of active reports, keyed by canonical identifier.

Built from the database at start, then kept current from outbox events (``follow``). A
million reports must fit in a few hundred megabytes, so each report is packed into a
fixed 46-byte record and an identifier's entry is the concatenation of its reports'
records: one ``bytes`` object per identifier instead of a dozen Python objects per report.
Reads take no lock: entries are replaced whole, and a dict lookup is atomic.
"""

from __future__ import annotations

import ipaddress
import struct
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fraudx.platform.ids import uuid_text
from fraudx.registry.events import ReportChange
from fraudx.registry.model import Categories, Tlp

# id (UUID bytes), agency, category, confidence, tlp, pad, first_seen, last_seen, valid_until
_RECORD = struct.Struct("<16sHBBBxqqq")
_TLPS = list(Tlp)
_TLP_INDEX = {t.value: i for i, t in enumerate(_TLPS)}
#: Slots of the presence filter (one byte each): 8 MB, about 12 % of them taken by a
#: million identifiers.
FILTER_SLOTS = 1 << 23


def filter_slot(key: str) -> int:
    """Where ``key`` counts in the presence filter (``LookupIndex.presence``)."""
    return hash(key) & (FILTER_SLOTS - 1)


@dataclass(frozen=True, slots=True)
class IndexedReport:
    """One active report as the index holds it (times in Unix seconds)."""

    id: str
    agency: str
    country: str
    category: str
    confidence: int
    tlp: Tlp
    first_seen: int
    last_seen: int
    valid_until: int
    half_life_days: int


def _uuid_bytes(text: str) -> bytes:
    """``uuid.UUID(text).bytes``, at a third of the cost for an id in its usual form."""
    digits = text.replace("-", "")
    if len(digits) == 32:
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            raw = b""
        if len(raw) == 16:
            return raw
    return uuid.UUID(text).bytes  # other spellings (braces, urn:), or the error


class LookupIndex:
    def __init__(self, categories: Categories) -> None:
        self._categories = categories
        self._entries: dict[str, bytes] = {}
        # How many keys hash to each slot (255: that many or more, and then never fewer).
        # A zero answers "not listed" from one byte, where the dict above would be read in
        # several places of its tens of megabytes: most batch items are not listed. Kept
        # before the dict on the way in and after it on the way out, so a reader without
        # the lock never finds zero for a key the dict holds.
        self._presence = bytearray(FILTER_SLOTS)
        self._agencies: list[tuple[str, str]] = []  # (code, country) by position
        self._agency_index: dict[str, int] = {}
        self._category_names: list[str] = []
        self._category_index: dict[str, int] = {}
        self._half_lives: list[int] = []  # by category position
        # Listed IP networks by version and prefix length (how many of each), so that an
        # address is found inside a listed network with one probe per length in use.
        self._networks: dict[int, dict[int, int]] = {4: {}, 6: {}}
        #: Changes whenever a prefix length comes into use or goes out of it, so that
        #: what ``covering`` answered may be kept until then.
        self.networks_version = 0
        self._write = threading.Lock()
        #: The outbox position up to which this index has applied every event.
        self.position = 0
        self.reports_count = 0

    def empty_like(self) -> LookupIndex:
        """A new, empty index with the same categories (for a few reports read at once)."""
        return LookupIndex(self._categories)

    # --- reads (no lock) --------------------------------------------------------------

    @property
    def entries(self) -> Mapping[str, bytes]:
        """The raw entries, for hot loops that only ask whether a key is listed."""
        return self._entries

    @property
    def presence(self) -> bytearray:
        """For hot loops: zero at ``filter_slot(key)`` means ``key`` is not listed; any
        other value, that it may be (ask ``entries``)."""
        return self._presence

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def reports(self, key: str) -> list[IndexedReport]:
        """The active reports of one identifier (``kind:value``); [] when not listed."""
        packed = self._entries.get(key)
        if packed is None:
            return []
        return [self._unpack(fields) for fields in _RECORD.iter_unpack(packed)]

    def listed_besides(self, key: str, report_id: str) -> bool:
        """Whether ``key`` has an active report other than ``report_id``. Asked of every
        new report by the rule about other countries' reports, and answered mostly for an
        identifier no one else reports: from the entry's length and its one id."""
        packed = self._entries.get(key)
        if packed is None:
            return False
        if len(packed) > _RECORD.size:
            return True
        try:
            return packed[:16] != _uuid_bytes(report_id)
        except ValueError:  # not an id this index could hold
            return True

    def reports_covering(self, key: str) -> list[IndexedReport]:
        """``reports``, and for an IP address or network (``ip:...``) those of every
        listed network that contains it as well."""
        reports = self.reports(key)
        if key.startswith("ip:") and self.has_networks:
            for network in self.covering(key[3:]):
                reports += self.reports(network)
        return reports

    @property
    def has_networks(self) -> bool:
        return bool(self._networks[4] or self._networks[6])

    def covering(self, network: str) -> list[str]:
        """Keys of listed networks that contain ``network`` (an address or a CIDR, in
        canonical form). IPv4, nearly every look-up, is done in integers: an
        ``ipaddress`` object per look-up would cost more than the rest of it."""
        if ":" not in network:
            address, _, length_text = network.partition("/")
            octets = address.split(".")
            if len(octets) != 4:
                return []
            number = int(octets[0]) << 24 | int(octets[1]) << 16 | int(octets[2]) << 8
            number |= int(octets[3])
            own = int(length_text) if length_text else 32
            keys = []
            for length in self._networks[4]:
                if length < own:
                    base = number & (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
                    keys.append(
                        f"ip:{base >> 24}.{base >> 16 & 255}.{base >> 8 & 255}.{base & 255}"
                        f"/{length}"
                    )
            return keys
        try:
            query = ipaddress.ip_network(network, strict=False)
        except ValueError:
            return []
        return [
            f"ip:{query.supernet(new_prefix=length)}"
            for length in sorted(self._networks[query.version])
            if length < query.prefixlen
        ]

    def _unpack(self, fields: tuple[bytes, int, int, int, int, int, int, int]) -> IndexedReport:
        raw_id, agency, category, confidence, tlp, first_seen, last_seen, valid_until = fields
        code, country = self._agencies[agency]
        return IndexedReport(
            uuid_text(raw_id.hex()),  # str(uuid.UUID(bytes=raw_id)), at a quarter of the cost
            code,
            country,
            self._category_names[category],
            confidence,
            _TLPS[tlp],
            first_seen,
            last_seen,
            valid_until,
            self._half_lives[category],
        )

    def _half_life(self, category: str) -> int:
        try:
            return self._categories.get(category).half_life_days
        except Exception:  # a category this node no longer knows still ages
            return 30

    # --- writes -----------------------------------------------------------------------

    def load(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add active reports in bulk, as ``store.active_for_index`` reads them:
        (id, kind, value, agency, country, category, confidence, tlp, first_seen,
        last_seen, valid_until). For the build at start: ids must not be indexed yet."""
        entries = self._entries
        pack = _RECORD.pack
        with self._write:
            for id_, kind, value, agency, country, category, confidence, tlp, *times in rows:
                key = f"{kind}:{value}"
                record = pack(
                    bytes.fromhex(id_.replace("-", "")),
                    self._agency(agency, country),
                    self._category(category),
                    confidence,
                    _TLP_INDEX[tlp],
                    *times,
                )
                old = entries.get(key)
                if old is None:
                    self._count_in(key)
                    entries[key] = record
                    if kind == "ip" and "/" in value:
                        self._count_network(value, 1)
                else:
                    entries[key] = old + record
                self.reports_count += 1

    def apply(
        self,
        changes: Iterable[ReportChange],
        position: int | None = None,
        *,
        after: int | None = None,
    ) -> None:
        """Apply changes in event order; active reports are put, others taken out. They
        are the events up to ``position``; given ``after``, those after it only, so that
        the index moves to ``position`` only if it had reached ``after`` already."""
        with self._write:
            for change in changes:
                self._apply_one(change)
            reached = after is None or self.position >= after
            if position is not None and position > self.position and reached:
                self.position = position

    def _apply_one(self, change: ReportChange) -> None:
        raw_id = _uuid_bytes(change.id)
        old = self._entries.get(change.key, b"")
        if old:
            kept = b"".join(
                old[i : i + _RECORD.size]
                for i in range(0, len(old), _RECORD.size)
                if old[i : i + 16] != raw_id
            )
            removed = (len(old) - len(kept)) // _RECORD.size
        else:  # a new key, as most of a pull's are
            kept, removed = b"", 0
        if change.active:
            kept += _RECORD.pack(
                raw_id,
                self._agency(change.agency, change.country),
                self._category(change.category),
                change.confidence,
                _TLP_INDEX[change.tlp],
                change.first_seen,
                change.last_seen,
                change.valid_until,
            )
            self.reports_count += 1
        self.reports_count -= removed
        if kept:
            if not old:
                self._count_in(change.key)
            self._entries[change.key] = kept
        elif old:
            del self._entries[change.key]
            self._count_out(change.key)
        if change.key.startswith("ip:") and "/" in change.key and bool(old) != bool(kept):
            self._count_network(change.key[3:], 1 if kept else -1)

    def _count_in(self, key: str) -> None:
        slot = filter_slot(key)
        if self._presence[slot] < 255:
            self._presence[slot] += 1

    def _count_out(self, key: str) -> None:
        slot = filter_slot(key)
        if self._presence[slot] < 255:  # a full slot no longer knows its count
            self._presence[slot] -= 1

    def _count_network(self, network: str, delta: int) -> None:
        parsed = ipaddress.ip_network(network, strict=False)
        lengths = self._networks[parsed.version]
        before = len(lengths)
        lengths[parsed.prefixlen] = lengths.get(parsed.prefixlen, 0) + delta
        if lengths[parsed.prefixlen] <= 0:
            del lengths[parsed.prefixlen]
        if len(lengths) != before:
            self.networks_version += 1

    def _agency(self, code: str, country: str) -> int:
        index = self._agency_index.get(code)
        if index is None:
            index = len(self._agencies)
            if index > 0xFFFF:
                raise OverflowError("more than 65,535 reporting agencies")
            self._agencies.append((code, country))
            self._agency_index[code] = index
        return index

    def _category(self, name: str) -> int:
        index = self._category_index.get(name)
        if index is None:
            index = len(self._category_names)
            if index > 0xFF:
                raise OverflowError("more than 255 categories")
            self._category_names.append(name)
            self._half_lives.append(self._half_life(name))
            self._category_index[name] = index
        return index
