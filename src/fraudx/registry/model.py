"""The indicator registry's domain: categories, TLP sharing rules, reports, risk. Pure Python.

An *indicator* is one agency's report that an identifier is used for fraud. Several
agencies reporting one identifier is corroboration: one identifier, several reports.
The same agency reporting the same identifier in the same category again updates its
report (last seen, confidence) instead of adding a second one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.errors import InvalidInput


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0 markings, least to most restricted."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


DEFAULT_TLP = Tlp.AMBER


def parse_tlp(raw: str) -> Tlp:
    text = raw.strip().upper().removeprefix("TLP:")
    if text == "WHITE":  # TLP 1.0 spelling still used by older tools
        text = "CLEAR"
    try:
        return Tlp(text)
    except ValueError:
        allowed = ", ".join(t.value for t in Tlp)
        raise InvalidInput("tlp", f"{raw!r} is not one of {allowed}") from None


class Status(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class RevokeReason(StrEnum):
    FALSE_POSITIVE = "false_positive"  # also how a wrongly listed person's appeal ends
    ACCOUNT_CLOSED = "account_closed"
    RESOLVED = "resolved"
    OTHER = "other"


def parse_reason(raw: str) -> RevokeReason:
    try:
        return RevokeReason(raw.strip().lower().replace(" ", "_").replace("-", "_"))
    except ValueError:
        allowed = ", ".join(r.value for r in RevokeReason)
        raise InvalidInput("reason", f"{raw!r} is not one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class Category:
    """What an identifier is used for, and how long a report of it stays valid by default.

    ``half_life_days`` drives the recency part of risk: a report not seen again for one
    half-life counts half as much.
    """

    name: str
    lifetime_days: int
    half_life_days: int
    description: str


BUILTIN_CATEGORIES: tuple[Category, ...] = (
    Category("mule_account", 365, 120, "bank account receiving or moving victims' money"),
    Category("scam_call", 90, 30, "phone number placing scam calls"),
    Category("scam_sms", 90, 30, "phone number or sender sending scam messages"),
    Category("phishing_url", 60, 20, "URL of a phishing page"),
    Category("scam_website", 120, 45, "website or domain of a fake shop, investment or job"),
    Category("scam_compound_network", 60, 20, "IP range, phone or SIM used by a scam compound"),
    Category("cashout_wallet", 730, 180, "crypto wallet where scam proceeds are cashed out"),
    Category("sim_box", 60, 20, "SIM box: device or SIMs turning international calls local"),
    Category("fake_identity", 730, 365, "identity document or identity used to open accounts"),
)

#: Phone numbers and IP addresses change hands quickly: their reports age faster than
#: the category alone says. Bank accounts and wallets keep the category's lifetime.
KIND_LIFETIME_CAP_DAYS: dict[IdentifierKind, int] = {
    IdentifierKind.IP: 30,
    IdentifierKind.PHONE: 90,
    IdentifierKind.IMSI: 90,
}


class Categories:
    """The categories a node knows: the built-in ones plus those its settings add."""

    def __init__(self, extra: Iterable[Category] = ()) -> None:
        self._by_name = {c.name: c for c in BUILTIN_CATEGORIES}
        for category in extra:
            self._by_name[category.name] = category

    @classmethod
    def from_setting(cls, spec: str) -> Categories:
        """``"loan_scam:180,investment_scam:365"``: name and default lifetime in days."""
        extra = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, days = part.partition(":")
            name = name.strip().lower()
            if not name.replace("_", "").isalnum() or not days.strip().isdigit():
                raise InvalidInput("extra_categories", f"{part!r} is not NAME:DAYS")
            lifetime = int(days)
            extra.append(Category(name, lifetime, max(1, lifetime // 3), "added by this node"))
        return cls(extra)

    def get(self, name: str) -> Category:
        category = self._by_name.get(name.strip().lower())
        if category is None:
            raise InvalidInput("category", f"{name!r} is not one of {', '.join(self.names())}")
        return category

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_name.values())


def default_valid_until(category: Category, kind: IdentifierKind, start: datetime) -> datetime:
    days = min(category.lifetime_days, KIND_LIFETIME_CAP_DAYS.get(kind, category.lifetime_days))
    return start + timedelta(days=days)


# --- who may see what ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the sharing rules need to know about whoever reads."""

    agency_code: str | None
    law_enforcement: bool
    role: Role

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        return cls(principal.agency_code, principal.law_enforcement, principal.role)

    @property
    def sees_sources(self) -> bool:
        """Partners (banks, telcos) never learn which agency reported, or its case."""
        return self.role in (Role.ADMIN, Role.ANALYST, Role.LIAISON)


def may_see(tlp: Tlp, reporter: str, viewer: Viewer) -> bool:
    """The sharing rules of every read path (look-up, search, export, sightings).

    RED stays with the reporting agency; AMBER+STRICT goes to police, regulator and
    coordination agencies; AMBER to every agency of the node; GREEN and CLEAR to all.
    """
    if tlp is Tlp.RED:
        return viewer.agency_code == reporter
    if tlp is Tlp.AMBER_STRICT:
        return viewer.law_enforcement or viewer.agency_code == reporter
    return True


def visible_tlps(viewer: Viewer) -> tuple[list[Tlp], bool]:
    """The markings a viewer sees from any agency, and whether it also sees its own RED
    and AMBER+STRICT: the same rule as ``may_see``, in the shape of a query filter."""
    everyone = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER]
    if viewer.law_enforcement:
        everyone.append(Tlp.AMBER_STRICT)
    return everyone, viewer.agency_code is not None


# --- the records ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorDraft:
    """A validated report, before it meets what the registry already holds."""

    identifier: Identifier
    category: str
    confidence: int
    tlp: Tlp
    valid_from: datetime
    valid_until: datetime
    region: str | None = None
    case_ref: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.identifier.kind}:{self.identifier.value}"


@dataclass(frozen=True, slots=True)
class Indicator:
    """One agency's report on one identifier, as stored."""

    id: str
    identifier: Identifier
    category: str
    confidence: int
    tlp: Tlp
    status: Status
    agency_code: str
    country: str
    valid_from: datetime
    valid_until: datetime
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime
    case_ref: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()
    region: str | None = None
    revoked_reason: RevokeReason | None = None
    revoked_at: datetime | None = None
    revoked_note: str | None = None
    # Reports imported from a peer node: the node they come from and their id there.
    origin_node: str | None = None
    origin_id: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    action: str
    agency_code: str | None
    actor: str
    detail: dict[str, object] = field(default_factory=dict)


MAX_TAGS = 20
MAX_TEXT = 2000


def clean_confidence(value: object) -> int:
    if isinstance(value, bool):
        raise InvalidInput("confidence", "must be a whole number from 0 to 100")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InvalidInput("confidence", f"{value!r} is not a whole number from 0 to 100") from None
    if not 0 <= number <= 100:
        raise InvalidInput("confidence", f"{number} is outside 0 to 100")
    return number


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag:
            continue
        if len(tag) > 64 or ";" in tag:
            raise InvalidInput("tags", f"{tag[:70]!r}: a tag is at most 64 characters, no ';'")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput("tags", f"at most {MAX_TAGS} tags")
    return tuple(cleaned)


def clean_text(name: str, value: str | None, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(name, f"at most {limit} characters")
    return value or None


def clean_window(valid_from: datetime, valid_until: datetime, now: datetime) -> None:
    if valid_until <= valid_from:
        raise InvalidInput("valid_until", "must be after valid_from")
    if valid_until <= now:
        raise InvalidInput("valid_until", "is in the past: the indicator would never match")


# --- risk -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What risk and the look-up summary need of one visible, active report."""

    confidence: int
    country: str
    agency_code: str
    half_life_days: int
    last_seen: datetime


def risk(reports: Sequence[ReportFacts], now: datetime) -> int:
    """Risk 0–100 of an identifier from the reports a caller may see (docs/registry.md).

    1. Each report counts its confidence, weakened by age: ``c × 2^(-days / half-life)``,
       where days are since it was last seen and the half-life is its category's.
    2. Reports combine as independent evidence (noisy-OR): ``1 − Π(1 − cᵢ)``. Two agencies
       at 60 give 84; the same agency cannot corroborate itself (its best report counts).
    3. Reports from several countries add 10 % per extra country (at most +30 %).
    """
    if not reports:
        return 0
    best_per_agency: dict[str, float] = {}
    for r in reports:
        days = max(0.0, (now - r.last_seen).total_seconds() / 86400)
        weight = (r.confidence / 100) * math.pow(2.0, -days / r.half_life_days)
        best_per_agency[r.agency_code] = max(best_per_agency.get(r.agency_code, 0.0), weight)
    doubt = 1.0
    for weight in best_per_agency.values():
        doubt *= 1.0 - weight
    countries = len({r.country for r in reports})
    score = (1.0 - doubt) * (1.0 + min(0.3, 0.1 * (countries - 1)))
    return max(0, min(100, round(score * 100)))


# --- reading a report from what an agency sent ----------------------------------------

#: The fields of one row of a bulk import (CSV header or JSON Lines keys), in order.
IMPORT_FIELDS = (
    "kind",
    "value",
    "category",
    "confidence",
    "tlp",
    "valid_until",
    "region",
    "case_ref",
    "description",
    "tags",
)
DEFAULT_CONFIDENCE = 50


def parse_kind(raw: object) -> IdentifierKind:
    try:
        return IdentifierKind(str(raw).strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in IdentifierKind)
        raise InvalidInput("kind", f"{raw!r} is not one of {allowed}") from None


def parse_time(name: str, raw: object) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(name, f"{text!r} is not an ISO 8601 date or time") from None
    if value.tzinfo is None:  # a bare date or time is read as UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def draft_indicator(
    fields: Mapping[str, object],
    categories: Categories,
    now: datetime,
    parse: Callable[[IdentifierKind, str, str | None], Identifier],
    default_region: str | None = None,
) -> IndicatorDraft:
    """Validate one report as sent (a JSON body, a CSV row); raises InvalidInput naming
    the first wrong field. ``parse`` reads identifiers (``fraudx.identifiers.parse``);
    national forms without a region are read in ``default_region`` (the reporter's)."""
    for name in ("kind", "value", "category"):
        if fields.get(name) in (None, ""):
            raise InvalidInput(name, "is required")
    kind = parse_kind(fields["kind"])
    region_raw = fields.get("region")
    region = str(region_raw).strip().upper() if region_raw not in (None, "") else None
    if region is not None and (len(region) != 2 or not region.isalpha()):
        raise InvalidInput("region", f"{region_raw!r} is not an ISO 3166 alpha-2 country code")
    raw_value = fields["value"]
    if not isinstance(raw_value, str):
        raise InvalidInput("value", "must be a string")
    identifier = parse(kind, raw_value, region or default_region)
    category = categories.get(str(fields["category"]))
    confidence_raw = fields.get("confidence")
    confidence = (
        DEFAULT_CONFIDENCE if confidence_raw in (None, "") else clean_confidence(confidence_raw)
    )
    tlp_raw = fields.get("tlp")
    tlp = DEFAULT_TLP if tlp_raw in (None, "") else parse_tlp(str(tlp_raw))
    valid_from_raw = fields.get("valid_from")
    valid_from = now if valid_from_raw in (None, "") else parse_time("valid_from", valid_from_raw)
    until_raw = fields.get("valid_until")
    valid_until = (
        default_valid_until(category, kind, max(now, valid_from))
        if until_raw in (None, "")
        else parse_time("valid_until", until_raw)
    )
    clean_window(valid_from, valid_until, now)
    tags_raw = fields.get("tags")
    if tags_raw in (None, ""):
        tags: tuple[str, ...] = ()
    elif isinstance(tags_raw, str):
        tags = clean_tags(tags_raw.split(";"))
    elif isinstance(tags_raw, list) and all(isinstance(t, str) for t in tags_raw):
        tags = clean_tags(tags_raw)
    else:
        raise InvalidInput("tags", "a list of strings, or one string separated by ';'")
    return IndicatorDraft(
        identifier=identifier,
        category=category.name,
        confidence=confidence,
        tlp=tlp,
        valid_from=valid_from,
        valid_until=valid_until,
        region=region,
        case_ref=clean_text("case_ref", _text("case_ref", fields.get("case_ref")), 200),
        description=clean_text("description", _text("description", fields.get("description"))),
        tags=tags,
    )


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise InvalidInput(name, "must be text")
    return str(value)
