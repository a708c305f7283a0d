"""Alerts' domain: subscriptions and their filters, the matching index, rules. Pure Python.

A subscription belongs to an agency and says which new reports it wants to hear about
(empty filter lists match everything) and by which channel. A watchlist is a set of
identifiers an agency cares about. Every alert lands in the agency's inbox (and its
server-sent event stream); webhook and NATS subscriptions also get a delivery each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from fraudx.identifiers import IdentifierKind
from fraudx.platform.agencies.model import AgencyKind, Role
from fraudx.platform.errors import InvalidInput
from fraudx.registry.model import Viewer


class ChannelType(StrEnum):
    INBOX = "inbox"
    SSE = "sse"
    WEBHOOK = "webhook"
    NATS = "nats"


#: Channels that need a delivery row and a worker; inbox and SSE read the alerts table.
PUSHED = frozenset({ChannelType.WEBHOOK, ChannelType.NATS})


class Rule(StrEnum):
    LISTED = "indicator_listed"  # a new report matches a subscription
    WATCHLIST = "watchlist_hit"  # a new report lists an identifier on a watchlist
    SIGHTING = "sighting"  # someone looked up (or saw) an agency's indicator
    CORROBORATION = "corroboration"  # agencies of two or more countries report it
    SURGE = "surge"  # N distinct agencies looked it up within T minutes
    REVOCATION = "revocation"  # a report the agency heard about was revoked or expired


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


NATS_SUBJECT_ROOT = "fraudx.alerts"
_SUBJECT = re.compile(r"^fraudx\.alerts(\.[A-Za-z0-9_-]+)+$")
_FILTER_NAMES = ("kinds", "categories", "countries", "tags", "bank_codes", "phone_prefixes")


@dataclass(frozen=True, slots=True)
class Filters:
    """What a subscription wants; an empty set means "any"."""

    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    bank_codes: frozenset[str] = frozenset()  # "TH:004" (country:bank) or "004"
    phone_prefixes: frozenset[str] = frozenset()  # "+6681"

    def matches(self, facts: Facts) -> bool:
        if self.kinds and facts.kind not in self.kinds:
            return False
        if self.categories and facts.category not in self.categories:
            return False
        if self.countries and facts.country not in self.countries:
            return False
        if self.tags and not self.tags.intersection(facts.tags):
            return False
        if self.bank_codes and not self.bank_codes.intersection(facts.bank_keys):
            return False
        return not self.phone_prefixes or any(
            facts.phone.startswith(p) for p in self.phone_prefixes if facts.phone
        )

    def to_json(self) -> dict[str, list[str]]:
        return {name: sorted(getattr(self, name)) for name in _FILTER_NAMES}


def clean_filters(raw: Mapping[str, Any] | None) -> Filters:
    """Validate and normalise a subscription's filters; InvalidInput names the bad one."""
    raw = raw or {}
    unknown = set(raw) - set(_FILTER_NAMES)
    if unknown:
        raise InvalidInput(f"filters.{sorted(unknown)[0]}", f"use {', '.join(_FILTER_NAMES)}")
    values: dict[str, frozenset[str]] = {}
    for name in _FILTER_NAMES:
        items = raw.get(name) or []
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise InvalidInput(f"filters.{name}", "must be a list of strings")
        values[name] = frozenset(i.strip() for i in items if i.strip())
    kinds = frozenset(k.lower() for k in values["kinds"])
    known = {k.value for k in IdentifierKind}
    for kind in kinds - known:
        raise InvalidInput("filters.kinds", f"{kind!r} is not one of {', '.join(sorted(known))}")
    for prefix in values["phone_prefixes"]:
        if not re.fullmatch(r"\+[0-9]{1,14}", prefix):
            raise InvalidInput(
                "filters.phone_prefixes", f"{prefix!r}: use + and digits, e.g. +6681"
            )
    return Filters(
        kinds=kinds,
        categories=frozenset(c.lower() for c in values["categories"]),
        countries=frozenset(c.upper() for c in values["countries"]),
        tags=frozenset(t.lower() for t in values["tags"]),
        bank_codes=frozenset(b.upper() for b in values["bank_codes"]),
        phone_prefixes=values["phone_prefixes"],
    )


@dataclass(frozen=True, slots=True)
class Channel:
    type: ChannelType
    url: str | None = None
    subject: str | None = None


def clean_channel(raw: Mapping[str, Any] | None, agency: str) -> tuple[Channel, str | None]:
    """The channel and, for webhooks, the signing secret (kept apart: it is stored sealed)."""
    raw = raw or {"type": "inbox"}
    try:
        kind = ChannelType(str(raw.get("type", "")).lower())
    except ValueError:
        allowed = ", ".join(c.value for c in ChannelType)
        raise InvalidInput("channel.type", f"use one of {allowed}") from None
    if kind is ChannelType.WEBHOOK:
        url = str(raw.get("url") or "")
        if not re.match(r"^https?://[^\s/]+", url) or len(url) > 2000:
            raise InvalidInput("channel.url", "a webhook needs an http(s) URL")
        secret = str(raw.get("secret") or "")
        if len(secret) < 16:
            raise InvalidInput("channel.secret", "a webhook needs a secret of 16+ characters")
        return Channel(kind, url=url), secret
    if kind is ChannelType.NATS:
        subject = str(raw.get("subject") or f"{NATS_SUBJECT_ROOT}.{agency}")
        if not _SUBJECT.match(subject):
            raise InvalidInput("channel.subject", f"use {NATS_SUBJECT_ROOT}.<name>[.<name>…]")
        return Channel(kind, subject=subject), None
    return Channel(kind), None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    agency: str
    filters: Filters
    channel: Channel
    created_at: datetime


# --- what a rule knows about a report --------------------------------------------------


class Facts(NamedTuple):
    """A report as the matching index sees it (from a registry change). A tuple: the
    engine makes one for each change, 100,000 for a peer's bulk of reports, and a frozen
    dataclass sets each field through ``object.__setattr__``."""

    indicator_id: str
    kind: str
    value: str
    agency: str
    country: str
    category: str
    tlp: str
    confidence: int
    tags: tuple[str, ...] = ()
    bank_keys: tuple[str, ...] = ()  # ("TH:004", "004") for bank accounts
    phone: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def of_report(cls, kind: str, value: str, report: Any) -> Facts:
        """From an active report as the look-up index holds it (``IndexedReport``)."""
        fields = ("id", "agency", "country", "category", "confidence")
        change = {f: getattr(report, f) for f in fields}
        return cls.of_change(change | {"kind": kind, "value": value, "tlp": str(report.tlp)})

    @classmethod
    def of_change(cls, change: Mapping[str, Any]) -> Facts:
        kind, value = str(change["kind"]), str(change["value"])
        bank_keys: tuple[str, ...] = ()
        if kind == _BANK_ACCOUNT:
            country, _, rest = value.partition(":")
            bank = rest.partition(":")[0]
            bank_keys = (f"{country}:{bank}", bank)
        tags = change.get("tags")
        return cls(
            str(change["id"]),  # indicator_id
            kind,
            value,
            str(change["agency"]),
            str(change["country"]),
            str(change["category"]),
            str(change["tlp"]),
            int(change["confidence"]),
            tuple([t.lower() for t in tags]) if tags else (),
            bank_keys,
            value if kind == _PHONE else "",  # phone
        )


_BANK_ACCOUNT, _PHONE = IdentifierKind.BANK_ACCOUNT.value, IdentifierKind.PHONE.value


def viewer_of_agency(code: str, kind: AgencyKind | None) -> Viewer:
    """How the sharing rules see an agency as a recipient of alerts. Banks and telcos are
    partners: never told which agency reported (``Viewer.sees_sources``)."""
    partner = kind in (AgencyKind.BANK, AgencyKind.TELCO)
    law = kind in (AgencyKind.POLICE, AgencyKind.REGULATOR, AgencyKind.COORDINATION)
    return Viewer(code, law, Role.PARTNER if partner else Role.ANALYST)


# --- the matching index ----------------------------------------------------------------

# A subscription is indexed under its most selective filter (its anchor): a bank code, a
# phone prefix or a tag; failing those, under every (kind, category, country) its filters
# allow, "*" standing for "any". Matching probes the few anchors a report could hit (eight
# combinations of kind, category and country, one per prefix length in use, its tags),
# then checks the full filter on those candidates only.
_ANCHORS = ("bank_codes", "phone_prefixes", "tags")
_ANY = "*"


def _exact_keys(f: Filters) -> list[tuple[str, str, str]]:
    return [
        (k, c, n)
        for k in (sorted(f.kinds) or [_ANY])
        for c in (sorted(f.categories) or [_ANY])
        for n in (sorted(f.countries) or [_ANY])
    ]


@dataclass
class MatchIndex:
    """Subscriptions and watched identifiers, matched against a report in microseconds."""

    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    _anchored: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: {a: {} for a in _ANCHORS}
    )
    _exact: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    _prefix_lengths: dict[int, int] = field(default_factory=dict)
    # identifier key -> agencies watching it; a tuple, as most have one watcher (memory).
    _watched: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _by_agency: dict[str, dict[str, Subscription]] = field(default_factory=dict)

    def of_agency(self, agency: str) -> list[Subscription]:
        return list(self._by_agency.get(agency, {}).values())

    def _anchor(self, sub: Subscription) -> str | None:
        return next((a for a in _ANCHORS if getattr(sub.filters, a)), None)

    def add(self, sub: Subscription) -> None:
        self.remove(sub.id)
        self.subscriptions[sub.id] = sub
        self._by_agency.setdefault(sub.agency, {})[sub.id] = sub
        anchor = self._anchor(sub)
        if anchor is None:
            for key in _exact_keys(sub.filters):
                self._exact.setdefault(key, set()).add(sub.id)
            return
        for value in getattr(sub.filters, anchor):
            self._anchored[anchor].setdefault(value, set()).add(sub.id)
            if anchor == "phone_prefixes":
                self._prefix_lengths[len(value)] = self._prefix_lengths.get(len(value), 0) + 1

    def remove(self, sub_id: str) -> None:
        sub = self.subscriptions.pop(sub_id, None)
        if sub is None:
            return
        self._by_agency.get(sub.agency, {}).pop(sub_id, None)
        anchor = self._anchor(sub)
        if anchor is None:
            for key in _exact_keys(sub.filters):
                ids = self._exact.get(key)
                if ids is not None:
                    ids.discard(sub_id)
                    if not ids:
                        del self._exact[key]
            return
        table = self._anchored[anchor]
        for value in getattr(sub.filters, anchor):
            ids = table.get(value)
            if ids and sub_id in ids:
                ids.discard(sub_id)
                if anchor == "phone_prefixes":
                    self._prefix_lengths[len(value)] -= 1
                if not ids:
                    del table[value]

    def watch(self, key: str, agency: str) -> None:
        agencies = self._watched.get(key, ())
        if agency not in agencies:
            self._watched[key] = (*agencies, agency)

    def replace_watched(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Every (identifier key, agency) watched, at once (start, or another process
        changed a list); built aside and swapped in, so matching never sees half of it."""
        watched: dict[str, tuple[str, ...]] = {}
        for key, agency in pairs:
            agencies = watched.get(key, ())
            if agency not in agencies:
                watched[key] = (*agencies, agency)
        self._watched = watched

    def unwatch_agency(self, agency: str, keys: Iterable[str]) -> None:
        for key in keys:
            left = tuple(a for a in self._watched.get(key, ()) if a != agency)
            if left:
                self._watched[key] = left
            else:
                self._watched.pop(key, None)

    @property
    def watched_count(self) -> int:
        return len(self._watched)

    def watchers(self, key: str) -> tuple[str, ...]:
        return self._watched.get(key, ())

    def match(self, facts: Facts) -> list[Subscription]:
        """Subscriptions whose filters accept ``facts`` (any agency; TLP is checked later)."""
        candidates: set[str] = set()
        exact = self._exact
        for kind in (facts.kind, _ANY):
            for category in (facts.category, _ANY):
                for country in (facts.country, _ANY):
                    found = exact.get((kind, category, country))
                    if found:
                        candidates |= found
        anchored = self._anchored
        for value, anchor in (
            *((b, "bank_codes") for b in facts.bank_keys),
            *((t, "tags") for t in facts.tags),
        ):
            found = anchored[anchor].get(value)
            if found:
                candidates |= found
        if facts.phone:
            prefixes = anchored["phone_prefixes"]
            for length, count in self._prefix_lengths.items():
                if count and (found := prefixes.get(facts.phone[:length])):
                    candidates |= found
        subs = self.subscriptions
        return [subs[i] for i in sorted(candidates) if subs[i].filters.matches(facts)]


def shown_body(body: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """An alert's body as this viewer may read it (``body`` itself when all of it). An
    alert is written for its agency, naming sources as the agency's kind allows; the
    sharing rules also hold for the role reading or subscribing: a partner-role token
    (even one of a police agency) never learns which agency reported or looked, and only
    law enforcement learns which agency looked."""
    if viewer.sees_sources and viewer.law_enforcement:
        return body  # may see everything an alert can name
    shown: dict[str, Any] = dict(body)
    indicator = shown.get("indicator")
    if (
        not viewer.sees_sources
        and isinstance(indicator, dict)
        and indicator.get("agency", viewer.agency_code) != viewer.agency_code
    ):
        shown["indicator"] = {k: v for k, v in indicator.items() if k != "agency"}
    if not viewer.sees_sources:
        shown.pop("agencies", None)
    sighting = shown.get("sighting")
    if isinstance(sighting, dict) and isinstance(sighting.get("by"), dict):
        by = {k: v for k, v in sighting["by"].items() if k != "agency"}
        shown["sighting"] = {**sighting, "by": by}
    return body if shown == body else shown
