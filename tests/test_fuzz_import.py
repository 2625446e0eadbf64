"""Fuzzing the import with mutated real exports (issue 10): the contract holds for every mutant.

Each example takes one real export (tests/fuzz/mutations.py lists them),
damages it in one way (byte flips, insertions, deletions, truncation, a
region repeated, re-encoding as Latin-1, Windows-1252 or UTF-16, NULs, a very
long line, mixed line ends, two records swapped, binary or ZIP junk) and
reads it.  ``read_records`` must raise an ``InputError`` naming the file or
return a result with ``records_read == stored + problems`` in which every
record of the original outside the damaged lines comes back with the same
title, abstract and DOI; any other exception fails.  Damage to a CSV header
may become an error or change the columns' meaning (only the invariant is
checked then).

``SRMA_FUZZ_EXAMPLES`` sets the number of examples (default 150, a few
seconds); ``make fuzz`` runs thousands.  Hypothesis's example database is
off, so that a run does not depend on earlier runs.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.mutations import MUTATIONS, originals, run

EXAMPLES = int(os.environ.get("SRMA_FUZZ_EXAMPLES", "150"))
ORIGINALS = originals()


@settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=60),  # a hang guard, not a timing: each case takes milliseconds
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    original=st.sampled_from(ORIGINALS),
    mutation=st.sampled_from(MUTATIONS),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_a_mutated_export_keeps_the_contract(original, mutation, seed: int) -> None:
    mutant = mutation(original, random.Random(seed))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / original.path.name
        category, detail = run(original, mutant, path)
    assert category in ("correct", "clear error"), (
        f"{original.path.name}, {mutant.kind} (seed {seed}): {category}: {detail}"
    )


def test_the_corpus_has_every_text_format() -> None:
    assert {o.kind for o in ORIGINALS} >= {"ris", "medline", "wos", "bibtex", "csv"}
    assert all(o.records for o in ORIGINALS)
