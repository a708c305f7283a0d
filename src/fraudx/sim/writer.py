"""Streamed, chunked writing of tables as Parquet and CSV, with byte-stable output.

Parquet files carry no timestamps; the same rows in the same order with the same
pyarrow release give the same bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("parquet", "csv")


class TableWriter:
    """Appends chunks of one table to ``<name>.parquet`` and ``<name>.csv`` under a directory."""

    def __init__(self, directory: Path, name: str, schema: pa.Schema, formats: tuple[str, ...]):
        self.paths: list[Path] = []
        self.rows = 0
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if "parquet" in formats:
            path = target.with_name(target.name + ".parquet")
            self._parquet = pq.ParquetWriter(
                path, schema, compression="zstd", write_page_index=False
            )
            self.paths.append(path)
        if "csv" in formats:
            path = target.with_name(target.name + ".csv")
            self._csv = pacsv.CSVWriter(path, schema)
            self.paths.append(path)

    def write(self, table: pa.Table) -> None:
        if self._parquet is not None:
            self._parquet.write_table(table)
        if self._csv is not None:
            self._csv.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def write_table(
    directory: Path, name: str, table: pa.Table, formats: tuple[str, ...]
) -> TableWriter:
    """Write a whole (small) table at once."""
    with TableWriter(directory, name, table.schema, formats) as writer:
        writer.write(table)
    return writer


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
