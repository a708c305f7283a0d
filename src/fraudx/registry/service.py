"""Use cases of the indicator registry: report, import, revoke, read, search, export, expire.

Every read path applies the TLP sharing rules here, in the service, whatever calls it
(API, command line, exchange). Every write commits its outbox event and audit entry in
its own transaction; reads hand their audit entries to the batching recorder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fraudx.identifiers import Identifier, IdentifierKind, parse
from fraudx.platform import outbox
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.audit.service import event_for
from fraudx.platform.clock import as_utc
from fraudx.platform.errors import InvalidInput, NotFound, NotPermitted
from fraudx.platform.runtime import Platform
from fraudx.registry import federated, store
from fraudx.registry.drafting import Checked, Drafter, Target
from fraudx.registry.events import TOPIC, Change, change_of, created_change, event_payload
from fraudx.registry.formats import BulkFormat, RawRow
from fraudx.registry.indexer import IndexKeeper
from fraudx.registry.model import (
    Categories,
    HistoryEntry,
    Indicator,
    IndicatorDraft,
    RevokeReason,
    Status,
    Viewer,
    clean_text,
    draft_indicator,
    may_see,
    parse_kind,
    parse_reason,
    visible_tlps,
)
from fraudx.registry.origin import PeerImport, PeerReport
from fraudx.registry.recorder import ReadRecorder
from fraudx.registry.rows import Row, draft_of_row, key_of, new_row, row_times, time_of

log = logging.getLogger("fraudx.registry")

WRITERS = (Role.ADMIN, Role.ANALYST)
READERS = (Role.ADMIN, Role.ANALYST, Role.LIAISON)
#: Rows per transaction in a bulk import. Each transaction touches index pages all over
#: the table (identifiers arrive in random order), and every page it touches is written
#: once per commit: larger transactions write each page fewer times (50,000 rather than
#: 25,000 saves a fifth of the importer's CPU on a million rows). SQLite's single
#: writer is held for one to two seconds per transaction at this size.
IMPORT_CHUNK = 50_000
#: Changes per outbox event, so that a consumer never holds a huge event in memory.
EVENT_CHANGES = 5000
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    field: str
    reason: str


@dataclass
class ImportReport:
    accepted: int = 0
    created: int = 0
    updated: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    stored: bool = True


@dataclass(frozen=True, slots=True)
class IndicatorPage:
    items: list[Indicator]
    next_cursor: str | None


def _parse_identifier(kind: IdentifierKind, raw: str, region: str | None) -> Identifier:
    return parse(kind, raw, region=region)


def viewer_of(principal: Principal) -> store.Visibility:
    tlps, own = visible_tlps(Viewer.of(principal))
    return store.Visibility(tuple(t.value for t in tlps), principal.agency_code if own else None)


class RegistryService:
    def __init__(
        self,
        platform: Platform,
        categories: Categories,
        keeper: IndexKeeper,
        recorder: ReadRecorder,
        drafter: Drafter,
    ) -> None:
        self._platform = platform
        self._db = platform.db
        self._clock = platform.clock
        self._ids = platform.ids
        self._audit = platform.audit
        self.categories = categories
        self._keeper = keeper
        self._recorder = recorder
        self._drafter = drafter

    # --- writes -----------------------------------------------------------------------

    def _reporter(self, principal: Principal) -> tuple[str, str]:
        principal.require(*WRITERS)
        if not principal.agency_code or not principal.country:
            raise NotPermitted("indicators are reported by an agency: act as one (--agency)")
        return principal.agency_code, principal.country

    def draft(self, fields: Mapping[str, object], region: str | None = None) -> IndicatorDraft:
        return draft_indicator(
            fields, self.categories, self._clock.now(), _parse_identifier, region
        )

    def submit(self, principal: Principal, fields: Mapping[str, object]) -> tuple[Indicator, bool]:
        """Report one indicator; returns it and whether it is new (else it was updated)."""
        agency, country = self._reporter(principal)
        draft = self.draft(fields, country)
        now = self._clock.now()
        checked = self._checked(principal, [draft], now)  # before the write: it queues

        def write(session: Session) -> tuple[Indicator | None, str]:
            written = self._write_rows(session, principal, checked, audit_target=draft.key, now=now)
            indicator_id, change = written.first
            # A new report is exactly its draft; an updated one is read back whole.
            if change == Change.CREATED:
                return _new_report(indicator_id, draft, agency, country, now), change
            return store.get(session, indicator_id), change

        # Committed with whatever other reports are being taken at the same moment.
        indicator, change = self._platform.groups.run(write)
        assert indicator is not None
        return indicator, change == Change.CREATED

    def import_text(
        self,
        principal: Principal,
        lines: Iterable[str],
        fmt: BulkFormat,
        *,
        atomic: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Bulk import of a CSV or JSON Lines text: store the good rows and report every
        bad one with its line, field and reason.

        Not atomic: rows are written in chunks, each in its own transaction; a row the
        caller was told is accepted is committed. Atomic: one transaction, rolled back
        (nothing stored) if any row is bad.
        """
        target = self._target(principal)
        checked = self._drafter.check_text(lines, fmt, target, self._ids.new_many)
        return self._import(principal, checked, atomic, progress)

    def import_rows(
        self,
        principal: Principal,
        rows: Iterable[RawRow],
        *,
        atomic: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """``import_text`` for rows already read."""
        target = self._target(principal)
        checked = self._drafter.check(rows, target, self._ids.new_many)
        return self._import(principal, checked, atomic, progress)

    def import_records(
        self,
        principal: Principal,
        records: Iterable[Mapping[str, Any]],
        *,
        atomic: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """``import_rows`` for rows already read as mappings (line numbers as in a CSV
        file with a header: the first record is line 2)."""
        rows = (RawRow(n, dict(r)) for n, r in enumerate(records, start=2))
        return self.import_rows(principal, rows, atomic=atomic, progress=progress)

    def _target(self, principal: Principal) -> Target:
        agency, country = self._reporter(principal)
        return Target(agency, country, self._clock.now(), self._db.dialect == "sqlite")

    def _import(
        self,
        principal: Principal,
        checked: Iterable[Checked],
        atomic: bool,
        progress: Callable[[int], None] | None,
    ) -> ImportReport:
        report = ImportReport()
        if not atomic:
            self._consume(principal, checked, report, None, progress)
            return report
        try:
            with self._db.write() as session:
                self._consume(principal, checked, report, session, progress)
                if report.rejected:
                    raise _RollBack  # leaving the block by exception rolls it all back
        except _RollBack:
            return ImportReport(rejected=report.rejected, stored=False)
        return report

    def _consume(
        self,
        principal: Principal,
        checked: Iterable[Checked],
        report: ImportReport,
        session: Session | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        chunk: list[Checked] = []
        seen = 0
        for outcome in checked:
            seen += 1
            if outcome[1] is None:
                report.rejected.append(RowProblem(outcome[0], outcome[2], outcome[3]))
            else:
                chunk.append(outcome)
            if len(chunk) >= IMPORT_CHUNK:
                self._store_chunk(session, principal, chunk, report)
                chunk = []
            if progress and seen % 1000 == 0:
                progress(seen)
        if chunk:
            self._store_chunk(session, principal, chunk, report)
        if progress:
            progress(seen)

    def _store_chunk(
        self,
        session: Session | None,
        principal: Principal,
        chunk: list[Checked],
        report: ImportReport,
    ) -> None:
        if session is not None:
            written = self._write_rows(session, principal, chunk, audit_target=None)
        else:
            written = self._write_retrying(principal, chunk)
        report.accepted += len(chunk)
        report.created += written.created
        report.updated += written.updated

    def _write_retrying(self, principal: Principal, chunk: list[Checked]) -> _Written:
        # Two PostgreSQL importers may create the same report at once; the unique index
        # refuses the second, which then finds the first's row and updates it.
        for attempt in range(3):
            try:
                with self._db.write() as session:
                    return self._write_rows(session, principal, chunk, audit_target=None)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _checked(
        self, principal: Principal, drafts: list[IndicatorDraft], now: datetime
    ) -> list[Checked]:
        """Drafts checked in this process (one report sent) as ``_write_rows`` takes them."""
        agency, country = self._reporter(principal)
        when = row_times(self._db.dialect == "sqlite")
        stamp = when(now)
        return [
            (
                0,
                new_row(id_, d, agency, country, stamp, when),
                created_change(id_, d, agency, country, now),
            )
            for id_, d in zip(self._ids.new_many(len(drafts)), drafts, strict=True)
        ]

    def _write_rows(
        self,
        session: Session,
        principal: Principal,
        checked: list[Checked],
        *,
        audit_target: str | None,
        now: datetime | None = None,
    ) -> _Written:
        """Create or update the agency's reports for these checked rows, in ``session``.
        Most rows are new: they go into the table and their changes into the outbox as
        the checking made them; only rows met before are read back into records."""
        agency = self._reporter(principal)[0]
        now = now or self._clock.now()
        existing = store.active_reports_of(session, agency, [(c[1][1], c[1][2]) for c in checked])
        created: dict[tuple[str, str, str], tuple[Row, bytes]] = {}
        updated: dict[tuple[str, str, str], Indicator] = {}
        history: list[dict[str, Any]] = []
        for _, row, change in checked:
            key = key_of(row)
            if key in created:  # the same report twice in one chunk: the later row stands
                created[key] = self._merged(created[key][0], row)
                continue
            previous = updated.get(key) or existing.get(key)
            if previous is None:
                created[key] = (row, change)
                continue
            d = draft_of_row(row)
            updated[key] = _rereport(previous, d, now)
            history.append(
                {
                    "id": self._ids.new(),
                    "indicator_id": previous.id,
                    "at": now,
                    "action": "re-reported",
                    "agency_code": agency,
                    "actor": principal.actor,
                    "detail": {
                        "confidence": [previous.confidence, d.confidence],
                        "tlp": [previous.tlp.value, d.tlp.value],
                    },
                }
            )
        # In identifier order: inserts then walk the value indexes' pages in order.
        new = sorted(created.values(), key=lambda item: item[0][2])
        store.insert_rows(session, [row for row, _ in new])
        store.update_reports(session, list(updated.values()))
        store.add_history(session, history)
        changes: list[dict[str, Any] | bytes] = [change for _, change in new]
        changes += [change_of(i, Change.UPDATED) for i in updated.values()]
        ids = [row[0] for row, _ in new] + [i.id for i in updated.values()]
        self._emit(session, changes, now, ids)
        if new:
            first = (new[0][0][0], Change.CREATED)
        else:
            first = (next(iter(updated.values())).id, Change.UPDATED)
        if audit_target is not None:
            self._audit.record(
                session, principal, f"indicator.{first[1]}", first[0], {"key": audit_target}
            )
        else:
            self._audit.record(
                session,
                principal,
                "indicator.import",
                None,
                {"created": len(new), "updated": len(updated)},
            )
        return _Written(len(new), len(updated), first)

    def _merged(self, earlier: Row, later: Row) -> tuple[Row, bytes]:
        """One new report met twice: the earlier row's id and time, both rows' content."""
        id_, agency, country, stamp = earlier[0], earlier[3], earlier[4], earlier[11]
        draft = _merge(draft_of_row(earlier), draft_of_row(later))
        row = new_row(id_, draft, agency, country, stamp, row_times(self._db.dialect == "sqlite"))
        return row, created_change(id_, draft, agency, country, time_of(stamp))

    def close(self) -> None:
        self._drafter.close()

    def _emit(
        self,
        session: Session,
        changes: Sequence[dict[str, Any] | bytes],
        now: datetime,
        ids: Sequence[str] | None = None,
    ) -> None:
        """Changes into the outbox, in events of at most ``EVENT_CHANGES``. ``ids`` are
        their reports' ids in order, needed where ``changes`` holds JSON made earlier."""
        if ids is None:
            ids = [c["id"] for c in changes if isinstance(c, dict)]
        events = [
            outbox.NewEvent(
                self._ids.new(),
                TOPIC,
                None,
                event_payload(changes[i : i + EVENT_CHANGES], ids[i : i + EVENT_CHANGES]),
                now,
            )
            for i in range(0, len(changes), EVENT_CHANGES)
        ]
        span = outbox.emit(session, events)
        # This process's own changes reach its look-up index the moment they commit,
        # without reading them back from the outbox. The follower reads them again only
        # if the index had not reached them (other events before them still to read):
        # in order with everyone else's (applying a change twice is harmless). The
        # listener lets go of the changes once it has run: a session ends in a reference
        # cycle, so that what its listeners hold waits for the cycle collector, which bulk
        # work holds off (a pull kept every page's changes, and collected them all at its
        # end).
        keeper, pending = self._keeper, [changes]
        event.listen(
            session,
            "after_commit",
            lambda _s: keeper.apply_local(pending.pop(), span),
            once=True,
        )

    def revoke(
        self, principal: Principal, indicator_id: str, reason: str, note: str | None = None
    ) -> Indicator:
        """Stop a report from matching, for the record: nothing is ever deleted. The
        reporting agency's analysts revoke their own reports; a node admin any (appeals)."""
        principal.require(*WRITERS)
        why = parse_reason(reason)
        note = clean_text("note", note, 2000)
        with self._db.write() as session:
            indicator = store.get(session, indicator_id, for_update=True)
            if indicator is None or not may_see(
                indicator.tlp, indicator.agency_code, Viewer.of(principal)
            ):
                raise NotFound(f"no indicator {indicator_id}")
            if principal.role is not Role.ADMIN and principal.agency_code != indicator.agency_code:
                raise NotPermitted("only the reporting agency or a node admin may revoke it")
            if indicator.status is not Status.ACTIVE:
                raise InvalidInput("id", f"the indicator is already {indicator.status.value}")
            now = self._clock.now()
            store.set_status(
                session,
                indicator.id,
                Status.REVOKED,
                now,
                reason=why,
                by=principal.actor,
                note=note,
            )
            store.add_history(
                session,
                [
                    {
                        "id": self._ids.new(),
                        "indicator_id": indicator.id,
                        "at": now,
                        "action": "revoked",
                        "agency_code": principal.agency_code,
                        "actor": principal.actor,
                        "detail": {"reason": why.value, "note": note},
                    }
                ],
            )
            revoked = replace(
                indicator,
                status=Status.REVOKED,
                revoked_reason=why,
                revoked_at=now,
                revoked_note=note,
                updated_at=now,
            )
            self._emit(session, [change_of(revoked, Change.REVOKED)], now)
            self._audit.record(
                session, principal, "indicator.revoke", indicator.id, {"reason": why}
            )
        return revoked

    def expire_due(self, batch: int = 5000) -> int:
        """Mark reports past valid_until expired (look-ups already ignore them)."""
        total = 0
        system = Principal(Role.ADMIN, None, None, None, "fraudx-expiry")
        while True:
            with self._db.write() as session:
                now = self._clock.now()
                due = store.due_for_expiry(session, now, batch)
                if not due:
                    break
                store.expire(session, [i.id for i in due], now)
                store.add_history(
                    session,
                    [
                        {
                            "id": self._ids.new(),
                            "indicator_id": i.id,
                            "at": now,
                            "action": "expired",
                            "agency_code": None,
                            "actor": system.actor,
                            "detail": {"valid_until": i.valid_until.isoformat()},
                        }
                        for i in due
                    ],
                )
                expired = [replace(i, status=Status.EXPIRED, updated_at=now) for i in due]
                self._emit(session, [change_of(i, Change.EXPIRED) for i in expired], now)
                self._audit.record(session, system, "indicator.expire", None, {"count": len(due)})
            total += len(due)
        return total

    # --- reads ------------------------------------------------------------------------

    def _record_read(
        self, principal: Principal, action: str, target: str | None, **detail: Any
    ) -> None:
        self._recorder.add([event_for(principal, action, target, detail)])

    def get(self, principal: Principal, indicator_id: str) -> Indicator:
        principal.require(*READERS)
        with self._db.read() as session:
            indicator = store.get(session, indicator_id)
        if indicator is None or not may_see(
            indicator.tlp, indicator.agency_code, Viewer.of(principal)
        ):
            raise NotFound(f"no indicator {indicator_id}")
        self._record_read(principal, "indicator.read", indicator.id)
        return indicator

    def history(self, principal: Principal, indicator_id: str) -> list[HistoryEntry]:
        indicator = self.get(principal, indicator_id)
        with self._db.read() as session:
            return store.history(session, indicator.id)

    def search_filter(
        self,
        *,
        kind: str | None = None,
        value: str | None = None,
        region: str | None = None,
        category: str | None = None,
        country: str | None = None,
        agency: str | None = None,
        status: str | None = None,
        tag: str | None = None,
        since: datetime | None = None,
        text: str | None = None,
        default_region: str | None = None,
    ) -> store.SearchFilter:
        """Validate search filters; a value is read in canonical form (national forms in
        ``region``, else ``default_region``: the caller's country)."""
        kind_ = parse_kind(kind) if kind else None
        if value and kind_ is None:
            raise InvalidInput("kind", "give kind with value")
        region = region or default_region
        canonical = _parse_identifier(kind_, value, region).value if value and kind_ else None
        if status and status not in {s.value for s in Status}:
            raise InvalidInput("status", f"{status!r} is not one of active, revoked, expired")
        return store.SearchFilter(
            kind=kind_.value if kind_ else None,
            value=canonical,
            category=self.categories.get(category).name if category else None,
            country=country.strip().upper() if country else None,
            agency=agency.strip().upper() if agency else None,
            status=status,
            tag=tag.strip().lower() if tag else None,
            since=as_utc(since) if since else None,
            text=text.strip() if text else None,
        )

    def search(
        self,
        principal: Principal,
        filters: store.SearchFilter,
        *,
        cursor: str | None = None,
        limit: int = 100,
    ) -> IndicatorPage:
        principal.require(*READERS)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be 1 to {MAX_PAGE}")
        if cursor is not None and len(cursor) != 36:
            raise InvalidInput("cursor", "not a cursor this node handed out")
        with self._db.read() as session:
            items = store.search(
                session, filters, viewer_of(principal), before_id=cursor, limit=limit
            )
        self._record_read(principal, "indicator.search", None, **_filter_detail(filters))
        return IndicatorPage(items, items[-1].id if len(items) == limit else None)

    def export(self, principal: Principal, filters: store.SearchFilter) -> Iterator[Indicator]:
        """Every visible match, streamed; audited once when the export starts."""
        principal.require(*READERS)
        self._record_read(principal, "indicator.export", None, **_filter_detail(filters))
        with self._db.read() as session:
            yield from store.iter_search(session, filters, viewer_of(principal))

    def count(self, principal: Principal, filters: store.SearchFilter) -> int:
        principal.require(*READERS)
        with self._db.read() as session:
            return store.count(session, filters, viewer_of(principal))

    def stats(self, principal: Principal) -> list[tuple[str, str, str, str, int]]:
        """Counts by country, kind, category and status: every agency's role, observers
        included (not peer nodes: what they receive is the exchange policy's business)."""
        principal.require(*READERS, Role.PARTNER, Role.OBSERVER)
        with self._db.read() as session:
            return store.stats(session, viewer_of(principal))

    # --- reports from peer nodes (fraudx.exchange) -------------------------------------

    def import_from_peer(self, principal: Principal, reports: list[PeerReport]) -> PeerImport:
        """Store reports a peer node sent, keeping their origin: idempotent by (origin
        node, origin id); newer versions update or revoke. Only the exchange calls this,
        as the node itself (admin) on behalf of a peer it checked."""
        principal.require(Role.ADMIN, Role.PEER)
        if not reports:
            return PeerImport()
        now = self._clock.now()
        with self._db.write() as session:
            outcome, changes = federated.import_reports(
                session, reports, self._ids.new_many(len(reports)), now
            )
            self._emit(session, changes, now)
            if changes:
                self._audit.record(
                    session,
                    principal,
                    "indicator.import_from_peer",
                    None,
                    {
                        "created": outcome.created,
                        "updated": outcome.updated,
                        "revoked": outcome.revoked,
                    },
                )
        if changes:
            self._keeper.follow()
        return outcome


@dataclass(frozen=True, slots=True)
class _Written:
    created: int
    updated: int
    first: tuple[str, str]  # (id, change) of the first report written


class _RollBack(Exception):
    """Ends an atomic import that found bad rows."""


def _filter_detail(filters: store.SearchFilter) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for f in fields(filters):
        value = getattr(filters, f.name)
        if value:
            detail[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return detail


def _new_report(
    id_: str, draft: IndicatorDraft, agency: str, country: str, now: datetime
) -> Indicator:
    """The record ``rows.new_row`` makes of a draft."""
    return Indicator(
        id=id_,
        identifier=draft.identifier,
        category=draft.category,
        confidence=draft.confidence,
        tlp=draft.tlp,
        status=Status.ACTIVE,
        agency_code=agency,
        country=country,
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
        first_seen=now,
        last_seen=now,
        created_at=now,
        updated_at=now,
        case_ref=draft.case_ref,
        description=draft.description,
        tags=draft.tags,
        region=draft.region,
    )


def _merge(earlier: IndicatorDraft, later: IndicatorDraft) -> IndicatorDraft:
    return replace(
        later,
        valid_until=max(earlier.valid_until, later.valid_until),
        case_ref=later.case_ref or earlier.case_ref,
        description=later.description or earlier.description,
        tags=tuple(dict.fromkeys(earlier.tags + later.tags)),
    )


def _rereport(previous: Indicator, draft: IndicatorDraft, now: datetime) -> Indicator:
    """The same agency again: it was seen again; its latest judgement stands."""
    return replace(
        previous,
        confidence=draft.confidence,
        tlp=draft.tlp,
        valid_until=max(previous.valid_until, draft.valid_until),
        last_seen=now,
        updated_at=now,
        case_ref=draft.case_ref or previous.case_ref,
        description=draft.description or previous.description,
        tags=tuple(dict.fromkeys(previous.tags + draft.tags)),
    )


__all__ = ["ImportReport", "IndicatorPage", "RegistryService", "RevokeReason", "RowProblem"]
