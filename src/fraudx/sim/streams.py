"""Transfers and call records, streamed in time-ordered chunks.

Each chunk covers one slice of the simulated window: its ordinary rows are drawn afresh
from the chunk's own random stream, the fraud rows that fall in the slice are merged in,
and the whole chunk is sorted by time and numbered before it is written.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fraudx.sim.banking import TRANSFER_SCHEMA, AccountBook, ordinary_transfers, region_of
from fraudx.sim.fraud import FraudWorld
from fraudx.sim.model import CHUNK_ROWS, Parameters
from fraudx.sim.telecom import CALL_SCHEMA, Phonebook, calls_table, ordinary_calls
from fraudx.sim.writer import TableWriter

#: (step, done, total): called as generation advances.
Progress = Callable[[str, int, int], None]


def split(total: int, weights: list[float]) -> list[int]:
    w = np.array(weights) / np.sum(weights)
    counts = np.floor(w * total).astype(int)
    counts[: total - int(counts.sum())] += 1
    return [int(c) for c in counts]


def _windows(start: int, end: int, chunks: int) -> list[tuple[int, int]]:
    edges = [start + (end - start) * i // chunks for i in range(chunks + 1)]
    return list(itertools.pairwise(edges))


def write_transfers(
    out: Path,
    formats: tuple[str, ...],
    book: AccountBook,
    params: Parameters,
    seed: int,
    total: int,
    world: FraudWorld,
    start: int,
    end: int,
    step: Progress,
    writers: list[TableWriter],
) -> int:
    fraud = sorted(world.transfers)
    ts = np.array([f[0] for f in fraud], dtype=np.int64)
    ordinary = max(0, total - len(fraud))
    chunks = max(1, -(-ordinary // CHUNK_ROWS))
    windows = _windows(start, end, chunks)
    sizes = split(ordinary, [1.0] * chunks)
    region = region_of(book, params)
    values = book.all_values()
    countries = pa.array(region.countries)
    currencies = pa.array(region.currency)
    kinds = pa.array([k for k, _ in params.kind_mix])
    next_id = 1
    writer = TableWriter(out, "transfers", TRANSFER_SCHEMA, formats)
    for i, ((t0, t1), n) in enumerate(zip(windows, sizes, strict=True)):
        step("transfers", i, chunks)
        cols = ordinary_transfers(region, params, seed, i, n, t0, t1)
        lo = int(np.searchsorted(ts, t0)) if i else 0
        hi = int(np.searchsorted(ts, t1)) if i < chunks - 1 else len(fraud)
        part = fraud[lo:hi]
        table = pa.table(
            {
                "id": pa.array(np.zeros(n, dtype=np.int64)),
                "trail_id": pa.array([""] * n, pa.string()),
                "ts": pa.array(cols["ts"]).cast(TRANSFER_SCHEMA[2].type),
                "from_account": values.take(pa.array(cols["src"])),
                "to_account": values.take(pa.array(cols["dst"])),
                "from_country": countries.take(pa.array(cols["src_c"])),
                "to_country": countries.take(pa.array(cols["dst_c"])),
                "amount": pa.array(cols["amount"]),
                "currency": currencies.take(pa.array(cols["src_c"])),
                "kind": kinds.take(pa.array(cols["kind"])),
                "value_usd_cents": pa.array(cols["value"]),
            },
            schema=TRANSFER_SCHEMA,
        )
        extra = pa.table(
            {
                "id": pa.array([0] * len(part), pa.int64()),
                "trail_id": [f[1] for f in part],
                "ts": pa.array([f[0] for f in part], pa.int64()).cast(TRANSFER_SCHEMA[2].type),
                "from_account": [f[2] for f in part],
                "to_account": [f[3] for f in part],
                "from_country": [f[2][:2] for f in part],
                "to_country": [
                    "" if f[3].startswith(("tron:", "eth:")) else f[3][:2] for f in part
                ],
                "amount": pa.array([f[4] for f in part], pa.int64()),
                "currency": [f[5] for f in part],
                "kind": [f[6] for f in part],
                "value_usd_cents": pa.array([f[7] for f in part], pa.int64()),
            },
            schema=TRANSFER_SCHEMA,
        )
        merged = pa.concat_tables([table, extra]).combine_chunks()
        merged = merged.take(pc.sort_indices(merged, [("ts", "ascending")]))
        ids = np.arange(next_id, next_id + merged.num_rows, dtype=np.int64)
        next_id += merged.num_rows
        writer.write(merged.set_column(0, "id", pa.array(ids)))
    writer.close()
    writers.append(writer)
    step("transfers", chunks, chunks)
    return writer.rows


def write_calls(
    out: Path,
    formats: tuple[str, ...],
    phones: Phonebook,
    params: Parameters,
    total: int,
    world: FraudWorld,
    scam: dict[str, np.ndarray],
    start: int,
    end: int,
    step: Progress,
    writers: list[TableWriter],
) -> int:
    contacts = np.array(world.contacts, dtype=np.int64).reshape(-1, 5)
    extra = {
        "ts": np.concatenate([scam["ts"], contacts[:, 0]]),
        "caller": np.concatenate([scam["caller"], contacts[:, 1]]),
        "callee": np.concatenate([scam["callee"], contacts[:, 2]]),
        "service": np.concatenate([scam["service"], contacts[:, 3]]).astype(np.int8),
        "duration": np.concatenate([scam["duration"], contacts[:, 4]]).astype(np.int32),
    }
    order = np.argsort(extra["ts"], kind="stable")
    extra = {k: v[order] for k, v in extra.items()}
    ordinary = max(0, total - len(order))
    chunks = max(1, -(-ordinary // CHUNK_ROWS))
    windows = _windows(start, end, chunks)
    sizes = split(ordinary, [1.0] * chunks)
    writer = TableWriter(out, "calls", CALL_SCHEMA, formats)
    next_id = 1
    for i, ((t0, t1), n) in enumerate(zip(windows, sizes, strict=True)):
        step("calls", i, chunks)
        cols = ordinary_calls(phones, params, i, n, t0, t1)
        lo = int(np.searchsorted(extra["ts"], t0)) if i else 0
        hi = int(np.searchsorted(extra["ts"], t1)) if i < chunks - 1 else len(order)
        merged = {k: np.concatenate([cols[k], extra[k][lo:hi]]) for k in cols}
        by_time = np.argsort(merged["ts"], kind="stable")
        table = calls_table(phones, {k: v[by_time] for k, v in merged.items()}, next_id)
        next_id += table.num_rows
        writer.write(table)
    writer.close()
    writers.append(writer)
    step("calls", chunks, chunks)
    return writer.rows
