"""The sharing policy of a node: which peers receive what. Pure: no database, no HTTP.

A report belongs to one sharing group: the group named by a ``group:NAME`` tag, else
``all``. A peer sees a group's collection when its country is a member and the peer's
rule allows the group. Within it, the peer receives a report when TLP, category and the
two-person rule allow:

- ``RED`` never leaves the node;
- ``AMBER+STRICT`` only to peers whose agency is police, a regulator or a coordination
  centre (never to a bank's or telco's token);
- ``CLEAR``, ``GREEN`` and ``AMBER`` to every peer, unless the policy narrows it.

Without a policy file every configured peer receives what TLP allows: adding a peer is
enough to start exchanging. The file (TOML, ``FRAUDX_HOME/sharing.toml`` by default)::

    two_person_rule = true

    [groups]
    mekong = ["CN", "KH", "LA", "MM", "TH", "VN"]
    cn-mm-th = ["CN", "MM", "TH"]

    [[peers]]
    country = "MM"                       # or agency = "MM-MPF"
    tlp = ["CLEAR", "GREEN", "AMBER"]    # at most these
    groups = ["all", "cn-mm-th"]
    categories = ["mule_account", "scam_call"]
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fraudx.platform.errors import InvalidInput

TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
LAW_ENFORCEMENT = frozenset({"police", "regulator", "coordination"})
DEFAULT_GROUP = "all"
GROUP_TAG = "group:"
POLICY_FILE = "sharing.toml"  # in the node's home
EVERYONE = "*"

#: Groups every node knows: the Kunming agreement's six, and the trilateral group.
BUILTIN_GROUPS: dict[str, frozenset[str]] = {
    DEFAULT_GROUP: frozenset({EVERYONE}),
    "mekong": frozenset({"CN", "KH", "LA", "MM", "TH", "VN"}),
    "cn-mm-th": frozenset({"CN", "MM", "TH"}),
}


@dataclass(frozen=True, slots=True)
class PeerView:
    """What the policy needs to know about a peer: its country and its agency."""

    agency: str
    agency_kind: str
    country: str


@dataclass(frozen=True, slots=True)
class PeerRule:
    """A narrowing for the peers it matches (by agency code, or by country)."""

    agency: str | None = None
    country: str | None = None
    tlp: frozenset[str] | None = None
    groups: frozenset[str] | None = None
    categories: frozenset[str] | None = None

    def matches(self, peer: PeerView) -> bool:
        if self.agency is not None:
            return self.agency == peer.agency
        return self.country is None or self.country == peer.country


@dataclass(frozen=True, slots=True)
class Grant:
    """What one peer may receive from one group: a filter for the store's query."""

    group: str
    tlps: tuple[str, ...]
    categories: tuple[str, ...] | None  # None: every category
    approved_only: bool


@dataclass(frozen=True)
class Policy:
    groups: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(BUILTIN_GROUPS))
    rules: tuple[PeerRule, ...] = ()
    two_person_rule: bool = False

    def rule_for(self, peer: PeerView) -> PeerRule | None:
        """The first rule naming the peer's agency, else the first naming its country."""
        for rule in self.rules:
            if rule.agency is not None and rule.matches(peer):
                return rule
        for rule in self.rules:
            if rule.agency is None and rule.matches(peer):
                return rule
        return None

    def tlps_for(self, peer: PeerView) -> tuple[str, ...]:
        allowed = ["CLEAR", "GREEN", "AMBER"]
        if peer.agency_kind in LAW_ENFORCEMENT:
            allowed.append("AMBER+STRICT")
        rule = self.rule_for(peer)
        if rule is not None and rule.tlp is not None:
            allowed = [t for t in allowed if t in rule.tlp]
        return tuple(allowed)  # RED is never in the list

    def groups_for(self, peer: PeerView) -> list[str]:
        rule = self.rule_for(peer)
        names = []
        for name, members in self.groups.items():
            if EVERYONE not in members and peer.country not in members:
                continue
            if rule is not None and rule.groups is not None and name not in rule.groups:
                continue
            names.append(name)
        return names

    def grant(self, peer: PeerView, group: str) -> Grant | None:
        """What ``peer`` may receive of ``group``; None when it may not see the group."""
        if group not in self.groups_for(peer):
            return None
        rule = self.rule_for(peer)
        categories = None
        if rule is not None and rule.categories is not None:
            categories = tuple(sorted(rule.categories))
        return Grant(group, self.tlps_for(peer), categories, self.two_person_rule)

    def allows(self, peer: PeerView, tlp: str, category: str, group: str, approved: bool) -> bool:
        """The same rule as ``grant``, for one report (tests and push)."""
        grant = self.grant(peer, group)
        if grant is None or tlp not in grant.tlps:
            return False
        if grant.categories is not None and category not in grant.categories:
            return False
        return approved or not grant.approved_only

    def group_of(self, tags: Iterable[str]) -> str:
        for tag in tags:
            if tag.startswith(GROUP_TAG) and tag[len(GROUP_TAG) :] in self.groups:
                return tag[len(GROUP_TAG) :]
        return DEFAULT_GROUP


def _strings(where: str, value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(where, "must be a list of strings")
    return frozenset(v.strip() for v in value)


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Validate a policy document (the parsed TOML); InvalidInput names the wrong key."""
    groups: dict[str, frozenset[str]] = dict(BUILTIN_GROUPS)
    for name, members in (data.get("groups") or {}).items():
        groups[str(name)] = frozenset(m.upper() for m in _strings(f"groups.{name}", members))
    rules = []
    for n, raw in enumerate(data.get("peers") or []):
        where = f"peers[{n}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(where, "must be a table")
        tlp = _strings(f"{where}.tlp", raw["tlp"]) if "tlp" in raw else None
        if tlp is not None:
            tlp = frozenset(t.upper().removeprefix("TLP:") for t in tlp)
            unknown = tlp - set(TLPS)
            if unknown:
                raise InvalidInput(f"{where}.tlp", f"unknown TLP {sorted(unknown)}")
        peer_groups = _strings(f"{where}.groups", raw["groups"]) if "groups" in raw else None
        if peer_groups is not None and peer_groups - set(groups):
            raise InvalidInput(
                f"{where}.groups", f"unknown group {sorted(peer_groups - set(groups))}"
            )
        cats = _strings(f"{where}.categories", raw["categories"]) if "categories" in raw else None
        agency = str(raw["agency"]).upper() if raw.get("agency") else None
        country = str(raw["country"]).upper() if raw.get("country") else None
        rules.append(PeerRule(agency, country, tlp, peer_groups, cats))
    two = data.get("two_person_rule", False)
    if not isinstance(two, bool):
        raise InvalidInput("two_person_rule", "must be true or false")
    return Policy(groups, tuple(rules), two)


def load_policy(path: Path) -> Policy:
    """The policy in ``path``, or the default (TLP alone decides) if there is no file."""
    if not path.exists():
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput("policy", f"{path}: {exc}") from None
    return parse_policy(data)
