"""Reports imported from peer nodes: stored with their origin, upserted idempotently.

A peer's report is keyed by (origin node, id there): the same report twice is stored
once; a newer version (its ``modified`` later than what is held) updates it, revokes it
or expires it; an older or equal one changes nothing. Imported reports emit the same
``registry.indicators`` changes as local ones, so that the look-up index and alerts see
them; each also names its ``origin`` node, so that the exchange's publisher passes over
them without reading them back (a node never re-publishes what it imported). The
reporting agency is registered here (with its kind and country) if unknown. Its SQL
lives in ``store.peers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from fraudx.platform.agencies import store as agency_store
from fraudx.platform.agencies.model import draft_agency
from fraudx.platform.errors import InvalidInput
from fraudx.registry import store
from fraudx.registry.events import Change, change_of_peer, timestamps
from fraudx.registry.model import Indicator, Status
from fraudx.registry.origin import PeerImport, PeerReport


def ensure_agencies(session: Session, reports: Sequence[PeerReport], now: datetime) -> None:
    wanted = {r.agency_code: r for r in reports}
    have = store.known_agencies(session, list(wanted))
    for code, report in wanted.items():
        if code in have:
            continue
        try:
            draft = draft_agency(
                code, report.agency_name or code, report.country, report.agency_kind
            )
        except InvalidInput:  # an unknown kind: keep the report, register it as an observer
            draft = draft_agency(code, code, report.country, "observer")
        agency_store.insert_agency(session, draft, now)


def import_reports(
    session: Session, reports: Sequence[PeerReport], new_ids: list[str], now: datetime
) -> tuple[PeerImport, list[dict[str, Any]]]:
    """Upsert ``reports`` in ``session``; returns the counts and the outbox changes.
    ``new_ids`` gives the local ids of reports not held yet (one per report at most)."""
    outcome = PeerImport()
    latest = _latest(reports)
    if not latest:
        return outcome, []
    ensure_agencies(session, list(latest.values()), now)
    existing = store.held(session, list(latest))
    seconds = timestamps()
    if not existing:  # a pull's usual page: every report new, nothing to look up or update
        inserts = list(zip(new_ids[: len(latest)], latest.values(), strict=True))
        changes = [change_of_peer(id_, r, _change(None, r), seconds) for id_, r in inserts]
        outcome.created = len(inserts)
        store.insert_held(session, inserts)
        return outcome, changes
    fresh = iter(new_ids)
    inserts = []
    updates: list[Indicator] = []
    changes = []
    for key, report in latest.items():
        previous = existing.get(key)
        if previous is None:
            local_id = next(fresh)
            inserts.append((local_id, report))
            changes.append(change_of_peer(local_id, report, _change(None, report), seconds))
            outcome.created += 1
        elif report.updated_at <= previous.updated_at:
            outcome.unchanged += 1
        else:
            updates.append(
                replace(report.indicator, id=previous.id, created_at=previous.created_at)
            )
            change = _change(previous, report)
            changes.append(change_of_peer(previous.id, report, change, seconds))
            if change == Change.REVOKED:
                outcome.revoked += 1
            else:
                outcome.updated += 1
    # Updates first: a revoked report must leave the one-active-report index before
    # the origin's replacement for it arrives in the same batch.
    store.update_held(session, updates)
    store.insert_held(session, inserts)
    return outcome, changes


def _latest(reports: Sequence[PeerReport]) -> dict[tuple[str, str], PeerReport]:
    """Each report once by its origin: the newest version of one met twice (the first
    of equals), in the order each was first met."""
    latest = dict(zip(map(_ORIGIN, reports), reports, strict=True))  # in C, no Python a report
    if len(latest) == len(reports):
        return latest  # none met twice (a page's usual case): each stands as it is
    latest = {}
    for r in reports:
        key = r.origin
        seen = latest.get(key)
        if seen is None or r.updated_at > seen.updated_at:
            latest[key] = r
    return latest


#: Enum members as constants: in Python 3.11 ``Status.REVOKED`` goes through
#: ``EnumType.__getattr__``, several times the cost of a global.
_REVOKED, _EXPIRED = Status.REVOKED, Status.EXPIRED
_ORIGIN = attrgetter("origin_node", "origin_id")


def _change(previous: store.Held | None, now: PeerReport) -> str:
    status = now.status
    if status is _REVOKED:
        return Change.REVOKED
    if status is _EXPIRED:
        return Change.EXPIRED
    return Change.CREATED if previous is None else Change.UPDATED
