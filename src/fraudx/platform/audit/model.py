"""Audit entries and the hash chain that makes tampering show. Pure Python.

Each entry's hash covers its own fields, its sequence number and the previous entry's
hash. Editing an entry breaks its own hash; deleting, inserting or reordering breaks the
sequence or the link to the previous hash; cutting entries off the end no longer matches
the head, which is kept apart and moved in the same transaction as each append.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before it takes its place in the chain."""

    action: str
    actor: str
    role: str
    agency_code: str | None = None
    token_id: str | None = None
    address: str | None = None
    target: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    id: str
    at: datetime
    event: AuditEvent
    prev_hash: str
    hash: str


def _canonical_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(seq: int, id_: str, at: datetime, event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 over a canonical JSON rendering of everything the entry says."""
    body = [
        seq,
        id_,
        _canonical_time(at),
        event.action,
        event.actor,
        event.role,
        event.agency_code,
        event.token_id,
        event.address,
        event.target,
        event.detail,
        prev_hash,
    ]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain(
    events: Iterable[tuple[str, datetime, AuditEvent]], last_seq: int, last_hash: str
) -> list[AuditEntry]:
    """Link new events after the entry (last_seq, last_hash)."""
    entries = []
    for id_, at, event in events:
        last_seq += 1
        digest = entry_hash(last_seq, id_, at, event, last_hash)
        entries.append(AuditEntry(last_seq, id_, at, event, last_hash, digest))
        last_hash = digest
    return entries


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first entry where the chain does not hold, and why."""

    seq: int
    entry_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" + (f" ({self.entry_id})" if self.entry_id else "")
        return f"{where}: {self.reason}"


def verify(
    entries: Iterable[AuditEntry], head_seq: int, head_hash: str
) -> tuple[int, ChainBreak | None]:
    """Walk entries in stored order; return how many were checked and the first break."""
    expected_seq, prev = 1, GENESIS
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                gap = (
                    f"entry {expected_seq} is"
                    if entry.seq == expected_seq + 1
                    else f"entries {expected_seq} to {entry.seq - 1} are"
                )
                why = f"{gap} missing (deleted, or moved out of place)"
                return checked, ChainBreak(expected_seq, None, why)
            return checked, ChainBreak(
                entry.seq, entry.id, f"out of order: expected entry {expected_seq} here"
            )
        if entry.prev_hash != prev:
            return checked, ChainBreak(
                entry.seq,
                entry.id,
                "does not link to the entry before it (an entry was inserted, deleted or moved)",
            )
        if entry_hash(entry.seq, entry.id, entry.at, entry.event, entry.prev_hash) != entry.hash:
            return checked, ChainBreak(entry.seq, entry.id, "its content was changed")
        checked += 1
        prev = entry.hash
        expected_seq += 1
    last = expected_seq - 1
    if last != head_seq or prev != head_hash:
        if last < head_seq:
            why = f"the log ends at entry {last} but the head says {head_seq}: entries were cut off"
        else:
            why = f"the log runs to entry {last} but the head says {head_seq}: entries were added"
        return checked, ChainBreak(min(last, head_seq) + 1, None, why)
    return checked, None
