"""Matching one new report against 10,000 subscriptions and 1,000,000 watched identifiers.

Subscriptions are shaped like a region's: banks by bank code, telcos by number range,
police by country and category, a few that take everything. Prints one JSON line.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import UTC, datetime

from fraudx.alerts.model import Facts, MatchIndex, Subscription, clean_channel, clean_filters

SUBSCRIPTIONS = 10_000
WATCHED = 1_000_000
REPORTS = 20_000
COUNTRIES = ["CN", "KH", "LA", "MM", "TH", "VN"]
CATEGORIES = ["mule_account", "scam_call", "scam_sms", "phishing_url", "cashout_wallet"]


def _filters(rng: random.Random, i: int) -> dict[str, list[str]]:
    shape = i % 10
    if shape < 4:  # a bank: its own bank code
        return {
            "kinds": ["bank_account"],
            "bank_codes": [f"{rng.choice(COUNTRIES)}:{rng.randrange(1000):03d}"],
        }
    if shape < 7:  # a telco: its own ranges
        return {
            "kinds": ["phone"],
            "phone_prefixes": [f"+66{rng.randrange(80, 100)}{rng.randrange(10)}"],
        }
    if shape < 9:  # police: a country and a category or two
        return {"countries": [rng.choice(COUNTRIES)], "categories": rng.sample(CATEGORIES, 2)}
    return {"tags": [f"op-{rng.randrange(500)}"]} if i % 100 else {}


def _report(rng: random.Random, n: int) -> Facts:
    if n % 2:
        value = f"TH:{rng.randrange(1000):03d}:{rng.randrange(10**10):010d}"
        kind, category = "bank_account", "mule_account"
    else:
        value, kind, category = f"+66{rng.randrange(8 * 10**8, 10**9)}", "phone", "scam_call"
    change = {
        "id": f"r{n}",
        "kind": kind,
        "value": value,
        "agency": "TH-CCIB",
        "country": rng.choice(COUNTRIES),
        "category": category,
        "tlp": "AMBER",
        "confidence": 70,
        "tags": [f"op-{rng.randrange(500)}"],
    }
    return Facts.of_change(change)


def main() -> None:
    rng = random.Random(7)
    index = MatchIndex()
    now = datetime.now(UTC)
    for i in range(SUBSCRIPTIONS):
        channel, _ = clean_channel({"type": "inbox"}, "X")
        index.add(
            Subscription(
                f"s{i:05d}", f"AG-{i % 400}", clean_filters(_filters(rng, i)), channel, now
            )
        )
    started = time.perf_counter()
    for i in range(WATCHED):
        index.watch(f"bank_account:TH:{i % 1000:03d}:{i:010d}", f"AG-{i % 400}")
    load_s = time.perf_counter() - started
    reports = [_report(rng, n) for n in range(REPORTS)]
    # a tenth of the reports are on a watchlist
    for n in range(0, REPORTS, 10):
        index.watch(reports[n].key, "AG-1")
    timings, matched = [], 0
    for facts in reports:
        t0 = time.perf_counter()
        subs = index.match(facts)
        watchers = index.watchers(facts.key)
        timings.append(time.perf_counter() - t0)
        matched += len(subs) + len(watchers)
    timings.sort()
    print(
        json.dumps(
            {
                "bench": "alerts_match",
                "subscriptions": SUBSCRIPTIONS,
                "watched": index.watched_count,
                "reports": REPORTS,
                "mean_matches": round(matched / REPORTS, 1),
                "p50_us": round(statistics.median(timings) * 1e6, 1),
                "p99_us": round(timings[int(len(timings) * 0.99)] * 1e6, 1),
                "max_us": round(timings[-1] * 1e6, 1),
                "watch_load_s": round(load_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
