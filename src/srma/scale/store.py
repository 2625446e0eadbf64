"""A results folder: one Parquet file per (scenario, block), written atomically.

Layout of ``OUTPUT/``::

    study.json                  the study's fingerprint (a folder serves one study)
    blocks/s0003-b00012.parquet scenario 3, block 12: one row per repetition and method

A block file is written under a temporary name and renamed into place
(:func:`os.replace`, atomic on one file system), so a file that exists is
complete; an interrupted run resumes by computing the blocks whose files are
missing.  Columns: ``scenario``, ``block``, ``repetition`` (0-based within the
scenario), ``method`` (the method's label), the fitted columns of
:data:`srma.scale.fit.FIT_COLUMNS`, ``converged`` and ``k``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from srma.errors import InputError
from srma.scale.study import Study


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            "simulation studies write Parquet files, which needs pyarrow: "
            "pip install 'srma[simulation]' (or 'srma[distributed]' for Dask)"
        ) from None
    return pa, pq


def block_table_bytes(
    scenario: int, block: int, first_repetition: int, fits: dict[str, dict[str, np.ndarray]]
) -> bytes:
    """The Parquet file of one block, as bytes (what a task sends back to the client)."""
    pa, pq = _arrow()
    labels = list(fits)
    n = len(next(iter(fits.values()))["estimate"])
    repetition = np.arange(first_repetition, first_repetition + n, dtype=np.int64)
    columns: dict[str, object] = {
        "scenario": np.full(n * len(labels), scenario, dtype=np.int32),
        "block": np.full(n * len(labels), block, dtype=np.int32),
        "repetition": np.tile(repetition, len(labels)),
        "method": pa.array(np.repeat(labels, n)).dictionary_encode(),
    }
    for name in fits[labels[0]]:
        columns[name] = np.concatenate([np.asarray(fits[label][name]) for label in labels])
    table = pa.table(columns)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


class ResultStore:
    """The results folder of one study (created, or checked to belong to the study)."""

    def __init__(self, folder: str | Path, study: Study) -> None:
        self.folder = Path(folder)
        self.blocks = self.folder / "blocks"
        self.study = study
        self.blocks.mkdir(parents=True, exist_ok=True)
        marker = self.folder / "study.json"
        fingerprint = study.fingerprint()
        if marker.exists():
            if marker.read_text(encoding="utf-8") != fingerprint:
                raise InputError(
                    f"{self.folder} holds results of a different study (study.json differs); "
                    "use a new output folder, or delete this one to start over"
                )
        else:
            self._write_atomically(marker, fingerprint.encode("utf-8"))

    def path(self, scenario: int, block: int) -> Path:
        return self.blocks / f"s{scenario:04d}-b{block:05d}.parquet"

    def missing(self) -> list[tuple[int, int]]:
        """The (scenario, block) pairs without a file, in study order."""
        return [
            (s.index, b)
            for s in self.study.scenarios
            for b in range(self.study.blocks)
            if not self.path(s.index, b).exists()
        ]

    def write(self, scenario: int, block: int, payload: bytes) -> Path:
        target = self.path(scenario, block)
        self._write_atomically(target, payload)
        return target

    @staticmethod
    def _write_atomically(target: Path, payload: bytes) -> None:
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(payload)
        os.replace(temporary, target)

    def read(self):
        """Every block's rows as one pandas DataFrame, in (scenario, block) order."""
        pa, pq = _arrow()
        files = sorted(self.blocks.glob("s*-b*.parquet"))
        if not files:
            raise InputError(f"{self.blocks}: no block results yet")
        tables = [pq.read_table(f) for f in files]
        frame = pa.concat_tables(tables, promote_options="default").to_pandas()
        frame["method"] = frame["method"].astype(str)
        return frame
