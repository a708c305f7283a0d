"""Tables and queries of the indicator registry: reports, their history, sightings.

One package, used as one module (``from fraudx.registry import store``; ``store.get``):
every SQL statement of the registry is in here, split by what it is about.
"""

from __future__ import annotations

from fraudx.registry.rows import tags_column, time_texts
from fraudx.registry.store.peers import Held, held, insert_held, known_agencies, update_held
from fraudx.registry.store.reports import (
    active_for_index,
    active_of,
    active_reports_of,
    add_history,
    bulk_insert,
    due_for_expiry,
    expire,
    get,
    get_many,
    history,
    insert_rows,
    set_status,
    update_reports,
)
from fraudx.registry.store.search import (
    SearchFilter,
    Visibility,
    count,
    iter_search,
    search,
    stats,
)
from fraudx.registry.store.sighting import add_sightings, add_to_sightings, list_sightings
from fraudx.registry.store.tables import (
    indicator_history,
    indicator_of,
    indicators,
    row_of,
    sightings,
)

__all__ = [
    "Held",
    "SearchFilter",
    "Visibility",
    "active_for_index",
    "active_of",
    "active_reports_of",
    "add_history",
    "add_sightings",
    "add_to_sightings",
    "bulk_insert",
    "count",
    "due_for_expiry",
    "expire",
    "get",
    "get_many",
    "held",
    "history",
    "indicator_history",
    "indicator_of",
    "indicators",
    "insert_held",
    "insert_rows",
    "iter_search",
    "known_agencies",
    "list_sightings",
    "row_of",
    "search",
    "set_status",
    "sightings",
    "stats",
    "tags_column",
    "time_texts",
    "update_held",
    "update_reports",
]
