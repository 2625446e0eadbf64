"""Write every output of ``find_duplicates`` on the shipped record sets, to compare two versions.

Run it once with each version of srma on ``PYTHONPATH``, then compare the two files::

    PYTHONPATH=/path/to/old/src .venv/bin/python benchmarks/dedup_same_results.py old.pickle --100k
    PYTHONPATH=src .venv/bin/python benchmarks/dedup_same_results.py new.pickle --100k
    .venv/bin/python benchmarks/dedup_same_results.py --compare old.pickle new.pickle

The sets: the three labelled searches, the ``--scale`` set of ``dedup_benchmark.py``
(each record and an upper-cased copy), the Ovid PsycINFO and Zotero exports with and
without DOIs and PMIDs, every shipped export, and with ``--100k`` the 100,000 records of
``bench_dedup_100k.py``.  For each set it keeps every pair (both indices, decision,
reason, title similarity), the clusters and the number of candidate pairs.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dedup_100k import build
from dedup_benchmark import DATASETS, EXPORTS, load_labelled_set
from srma.errors import InputError
from srma.review.identify.dedup import find_duplicates
from srma.review.identify.records import Record, read_records

TEST_EXPORTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "exports"


def record_sets(with_100k: bool) -> dict[str, list[Record]]:
    sets = {name: list(load_labelled_set(name).records) for name in DATASETS}
    every = [r for name in DATASETS for r in sets[name]]
    sets["scale"] = every + [
        replace(r, title=r.title.upper().replace(" ", "  ") + ".") for r in every
    ]
    ovid = list(read_records(EXPORTS / "ovid_psycinfo.ris").records)
    ovid += read_records(EXPORTS / "ovid_zotero.ris").records
    sets["ovid"] = ovid
    sets["ovid without DOI and PMID"] = [replace(r, doi="", pmid="") for r in ovid]
    for path in sorted([*EXPORTS.iterdir(), *TEST_EXPORTS.iterdir()]):
        try:
            sets[path.name] = list(read_records(path).records)
        except InputError:  # a licence or README
            continue
    if with_100k:
        sets["100k"] = list(build(100_000).records)
    return sets


def outputs(sets: dict[str, list[Record]]) -> dict[str, tuple[object, ...]]:
    out = {}
    for name, records in sets.items():
        result = find_duplicates(records)
        pairs = [
            (p.first, p.second, p.decision, p.reason, p.title_similarity) for p in result.pairs
        ]
        out[name] = (result.clusters, result.candidates, pairs)
        print(f"{name}: {len(records)} records, {result.candidates} candidates, "
              f"{len(pairs)} pairs, {len(result.clusters)} clusters", flush=True)  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--100k", dest="with_100k", action="store_true")
    parser.add_argument("--compare", action="store_true", help="compare two files written before")
    args = parser.parse_args()
    if args.compare:
        old, new = (pickle.loads(path.read_bytes()) for path in args.files)
        differ = [name for name in old if name not in new or old[name] != new[name]]
        print(
            f"{len(old)} sets, {len(differ)} differ" + (f": {', '.join(differ)}" if differ else "")
        )
        sys.exit(1 if differ else 0)
    args.files[0].write_bytes(pickle.dumps(outputs(record_sets(args.with_100k))))


if __name__ == "__main__":
    main()
