"""Look-ups (one identifier or a batch) and sightings: the hot path of the registry.

A look-up never touches the database (but on the command line, see ``build_index``): it
reads the in-memory index, and hands its audit entry and any sighting to the batching
recorder. Identifiers already in canonical form that the index holds skip parsing; other
spellings go through a bounded parse cache, since banks and telcos screen the same payees
and numbers day after day. Batches go further (``spellings``): an item seen before costs
a few dictionary reads, and its answer, when not listed, is ready-made JSON.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from fraudx.identifiers import Identifier, IdentifierKind, InvalidIdentifier, parse
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.audit.service import event_for
from fraudx.platform.clock import Clock, as_utc
from fraudx.platform.db import Database
from fraudx.platform.errors import InvalidInput
from fraudx.registry import store
from fraudx.registry.index import IndexedReport, filter_slot
from fraudx.registry.indexer import IndexKeeper
from fraudx.registry.lookup import LookupResult, Seen, result_of, seen, summarize
from fraudx.registry.model import Viewer, clean_text, parse_kind
from fraudx.registry.recorder import ReadRecorder, SightingRecord
from fraudx.registry.spellings import LookupError_, Networks, Spelling, Spellings, Table

#: Single look-ups are for people and systems acting on one case; observers see only
#: aggregate figures. Everyone else may screen.
LOOKERS = (Role.ADMIN, Role.ANALYST, Role.LIAISON, Role.PARTNER)
MAX_BATCH = 10_000
#: Listed identifiers whose visible reports are kept per viewer (``_result``), and whose
#: reports are kept for the alert engine (``reports_of``).
_SEEN_SIZE = 20_000
_KINDS = {k.value: k for k in IdentifierKind}


@lru_cache(maxsize=50_000)
def _cached_parse(kind: IdentifierKind, raw: str, region: str | None) -> Identifier | str:
    """A parsed identifier, or the reason it does not parse (errors are cached too)."""
    try:
        return parse(kind, raw, region=region)
    except InvalidIdentifier as exc:
        return exc.reason


def read_identifier(kind: str, value: str, region: str | None) -> Identifier:
    """Parse, with the cache; raises InvalidIdentifier or InvalidInput (unknown kind)."""
    kind_ = _KINDS.get(kind) or parse_kind(kind)
    if not isinstance(value, str):
        raise InvalidIdentifier(kind_.value, str(value), "must be a string")
    region_ = region.upper() if region else None
    parsed = _cached_parse(kind_, value, region_)
    if isinstance(parsed, str):
        raise InvalidIdentifier(kind_.value, value, parsed)
    return parsed


def _identifier_of(key: str) -> Identifier:
    kind, _, value = key.partition(":")
    return Identifier(_KINDS[kind], value)


def _as_result(spelling: Spelling) -> LookupResult | LookupError_:
    if spelling.error is not None:
        return spelling.error
    return LookupResult(_identifier_of(spelling.key or ""), False, 0, (), (), 0, None, None)


@dataclass(frozen=True, slots=True)
class Sighting:
    id: str
    kind: str
    value: str
    observed_at: datetime
    recorded_at: datetime
    agency_code: str | None
    role: str
    source: str
    note: str | None
    #: How many look-ups this stands for (see ``recorder``), the last one at ``last_at``.
    count: int = 1
    last_at: datetime | None = None


SIGHTING_SOURCES = ("lookup", "blocked_transfer", "call_seen", "sms_seen", "victim_report", "other")


class LookupService:
    def __init__(
        self, db: Database, clock: Clock, keeper: IndexKeeper, recorder: ReadRecorder
    ) -> None:
        self._db = db
        self._clock = clock
        self._keeper = keeper
        self._index = keeper.index
        self._entries = keeper.index.entries
        self._recorder = recorder
        self._spellings = Spellings()
        self._seen: dict[tuple[bytes, Viewer], Seen] = {}
        self._reports_kept: dict[str, tuple[bytes, list[IndexedReport]]] = {}
        #: Single look-ups build the index first; a process that answers one look-up (the
        #: command line) sets this to False to read that identifier from the database.
        self.build_index = True

    def _identify(self, kind: str, value: str, region: str | None) -> Identifier:
        # Canonical forms are fixed points of parse: a canonical value the index holds
        # is already known to be valid.
        kind_ = _KINDS.get(kind)
        if kind_ is not None and isinstance(value, str) and kind + ":" + value in self._entries:
            return Identifier(kind_, value)
        return read_identifier(kind, value, region)

    def _result(self, identifier: Identifier, viewer: Viewer, now: datetime) -> LookupResult:
        index = self._index
        key = identifier.kind + ":" + identifier.value
        packed = self._entries.get(key)
        if identifier.kind is IdentifierKind.IP and index.has_networks:
            reports = index.reports_covering(key)  # an address in a listed network
            if not reports:
                return LookupResult(identifier, False, 0, (), (), 0, None, None)
            return summarize(identifier, reports, viewer, now)
        if packed is None:  # most look-ups: nothing to weigh
            return LookupResult(identifier, False, 0, (), (), 0, None, None)
        # An entry is replaced whole when its reports change: what a viewer saw of these
        # very bytes holds until a report in them reaches its end of validity.
        now_ts = now.timestamp()
        memo = self._seen
        known = memo.get((packed, viewer))
        if known is None or not known.after <= now_ts < known.before:
            known = seen(index.reports(key), viewer, now_ts)
            if len(memo) >= _SEEN_SIZE:
                memo.clear()
            memo[packed, viewer] = known
        return result_of(identifier, known, now)

    def _result_from_database(
        self, identifier: Identifier, viewer: Viewer, now: datetime
    ) -> LookupResult:
        """The same answer without the index: the identifier's active reports (and for an
        address, those of every network that could hold it) read through the value index
        into an index of their own, then weighed as the index's would be."""
        values = [identifier.value]
        if identifier.kind is IdentifierKind.IP:
            network = ipaddress.ip_network(identifier.value, strict=False)
            values += [str(network.supernet(new_prefix=n)) for n in range(network.prefixlen)]
        with self._db.read() as session:
            rows = store.active_of(session, identifier.kind.value, values)
        index = self._index.empty_like()
        index.load(rows)
        reports = index.reports_covering(str(identifier))
        if not reports:
            return LookupResult(identifier, False, 0, (), (), 0, None, None)
        return summarize(identifier, reports, viewer, now)

    def listed_besides(self, key: str, report_id: str) -> bool:
        """Whether an active report other than ``report_id`` lists the identifier ``key``
        (``kind:value``, as the index keys it): for the node's own rules, as
        ``reports_of``."""
        self._keeper.ensure_built()
        return self._index.listed_besides(key, report_id)

    def reports_of(self, identifier: Identifier) -> list[IndexedReport]:
        """Every active report of an identifier, unfiltered: for the node's own rules
        (alerts), never for a caller. Apply ``model.may_see`` before showing any.

        Kept with the index entry they were read from (an entry is replaced whole when
        its reports change): a screening bank's hits are the same identifiers again and
        again, and the alert engine reads their reports for each."""
        self._keeper.ensure_built()
        key = str(identifier)
        entry = self._entries.get(key)
        if entry is None:
            return []
        kept = self._reports_kept.get(key)
        if kept is None or kept[0] is not entry:
            if len(self._reports_kept) >= _SEEN_SIZE:
                self._reports_kept.clear()
            kept = self._reports_kept[key] = (entry, self._index.reports(key))
        return list(kept[1])

    def lookup(
        self, principal: Principal, kind: str, value: str, region: str | None = None
    ) -> LookupResult:
        principal.require(*LOOKERS)
        if self.build_index:
            self._keeper.ensure_built()
        identifier = self._identify(kind, value, region or principal.country)
        now = self._clock.now()
        if self._keeper.built:
            result = self._result(identifier, Viewer.of(principal), now)
        else:
            result = self._result_from_database(identifier, Viewer.of(principal), now)
        self._recorder.add_lookup(
            principal,
            str(identifier),
            result.listed,
            self._sighting(principal, identifier, now) if result.hit_any else None,
        )
        return result

    def lookup_many(
        self, principal: Principal, items: Sequence[Mapping[str, Any]]
    ) -> list[LookupResult | LookupError_]:
        """Answer each item in order; an item that does not parse gets its reason."""
        return [
            _as_result(answer) if type(answer) is Spelling else answer  # type: ignore[misc]
            for answer in self.screen(principal, items)
        ]

    def screen(
        self, principal: Principal, items: Sequence[Mapping[str, Any]]
    ) -> list[Spelling | LookupResult]:
        """``lookup_many`` for the API: an item whose answer is plain (not listed for the
        caller, or an error) comes back as its ``Spelling``, the answer's JSON ready-made.

        Whether an identifier is listed is asked of the live index for every item, so a
        revocation or a new report shows in the next batch; only how a spelling reads is
        remembered."""
        principal.require(*LOOKERS)
        if len(items) > MAX_BATCH:
            raise InvalidInput("items", f"at most {MAX_BATCH} per request; split the batch")
        self._keeper.ensure_built()
        home = principal.country
        known = self._spellings.table(home)
        entries, index = self._entries, self._index
        presence, networks = index.presence, index.has_networks
        answers: list[Spelling | LookupResult] = []
        append = answers.append
        found: list[tuple[int, str]] = []  # items whose identifier has reports, by position
        for item in items:
            try:
                spelling = known[item.get("region")][item["kind"]][item["value"]]
            except (KeyError, TypeError):  # not seen yet, or not an ordinary item
                spelling = self._spell(item, home, known)
            key, _, slot, in_networks, _ = spelling
            if (presence[slot] and key in entries) or (
                in_networks is not None and networks and self._in_network(key, in_networks)
            ):
                found.append((len(answers), key))  # type: ignore[arg-type]  # keys are str here
            append(spelling)
        hits: list[str] = []  # each a sighting (see ``recorder``)
        now = self._clock.now()
        if found:
            viewer = Viewer.of(principal)
            for n, key in found:
                kind, _, value = key.partition(":")
                result = self._result(Identifier(_KINDS[kind], value), viewer, now)
                if result.hit_any:
                    hits.append(key)
                answers[n] = result
        detail = {"items": len(items), "hits": hits}
        event = event_for(principal, "registry.lookup_batch", None, detail)
        self._recorder.add_hits(principal, hits, now, event)
        return answers

    def _spell(self, item: Mapping[str, Any], home: str | None, known: Table) -> Spelling:
        """Read an item the first time its spelling is seen (see ``spellings``)."""
        kind, value, region = item.get("kind"), item.get("value"), item.get("region")
        if type(kind) is not str or not kind:
            return Spelling.failed(str(kind), str(value), "kind", "is required")
        if type(value) is not str or not value:
            return Spelling.failed(kind, str(value), "value", "is required")
        try:
            identifier = self._identify(
                kind, value, region if type(region) is str and region else home
            )
        except InvalidInput as exc:
            spelling = Spelling.failed(kind, value, exc.field, exc.reason)
        else:
            ip = identifier.kind is IdentifierKind.IP
            spelling = Spelling.of(identifier.kind, identifier.value, ip)
        if region is None or type(region) is str:  # then the item is exactly its key
            self._spellings.add(known, region, kind, value, spelling)
        return spelling

    def _in_network(self, key: Any, cached: list[tuple[int, Networks]]) -> bool:
        """Whether a listed network contains this IP address (see ``Spelling.networks``)."""
        index = self._index
        version, networks = cached[0]
        if version != index.networks_version:  # lengths in use changed: work them out again
            version = index.networks_version
            networks = tuple((k, filter_slot(k)) for k in index.covering(key[3:]))
            cached[0] = (version, networks)
        presence, entries = index.presence, self._entries
        # A loop, not any(): a generator per address would cost more than its look-ups.
        for network, slot in networks:  # noqa: SIM110  # the filter first, as for addresses
            if presence[slot] and network in entries:
                return True
        return False

    def _sighting(
        self, principal: Principal, identifier: Identifier, now: datetime, source: str = "lookup"
    ) -> SightingRecord:
        return SightingRecord(
            identifier.kind.value,
            identifier.value,
            now,
            principal.agency_code,
            principal.role.value,
            principal.actor,
            source,
        )

    # --- sightings --------------------------------------------------------------------

    def report_sighting(
        self,
        principal: Principal,
        kind: str,
        value: str,
        *,
        region: str | None = None,
        observed_at: datetime | None = None,
        source: str = "other",
        note: str | None = None,
    ) -> Identifier:
        """A partner (or analyst) saw an identifier: a bank blocked a transfer, a telco saw
        the number calling. Written at once, not batched: it is a report, not a read."""
        principal.require(*LOOKERS)
        identifier = read_identifier(kind, value, region or principal.country)
        if source not in SIGHTING_SOURCES:
            raise InvalidInput("source", f"{source!r} is not one of {', '.join(SIGHTING_SOURCES)}")
        now = self._clock.now()
        when = as_utc(observed_at) if observed_at else now
        if when > now:
            raise InvalidInput("observed_at", "is in the future")
        record = SightingRecord(
            identifier.kind.value,
            identifier.value,
            when,
            principal.agency_code,
            principal.role.value,
            principal.actor,
            source,
            clean_text("note", note, 2000),
        )
        self._recorder.add(
            [event_for(principal, "sighting.report", str(identifier), {"source": source})],
            [record],
        )
        self._recorder.flush()
        return identifier

    def sightings(
        self,
        principal: Principal,
        *,
        kind: str | None = None,
        value: str | None = None,
        region: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> tuple[list[Sighting], str | None]:
        """Sightings the caller may see: its own, and those of identifiers it reported.
        Node admins see all. Newest first."""
        principal.require(*LOOKERS)
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit", "must be 1 to 1000")
        if value and not kind:
            raise InvalidInput("kind", "give kind with value")
        canonical = read_identifier(kind, value, region).value if kind and value else None
        self._recorder.flush()  # what was just looked up is visible at once
        with self._db.read() as session:
            rows = store.list_sightings(
                session,
                viewer_agency=principal.agency_code,
                everything=principal.role is Role.ADMIN,
                kind=parse_kind(kind).value if kind else None,
                value=canonical,
                since=as_utc(since) if since else None,
                before_id=cursor,
                limit=limit,
            )
        items = [
            Sighting(
                r.id,
                r.kind,
                r.value,
                r.observed_at,
                r.recorded_at,
                r.agency_code,
                r.role,
                r.source,
                r.note,
                r.times,
                r.last_observed_at,
            )
            for r in rows
        ]
        self._recorder.add([event_for(principal, "sighting.search", canonical, {})])
        return items, (items[-1].id if len(items) == limit else None)
