"""Replaying the screening of a fully labelled set with active learning (evaluation).

Metrics: :mod:`srma.review.screen.metrics` (recall curve, WSS@95/100, RRF@10).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from srma.errors import InputError
from srma.review.screen.features import DEFAULT_FEATURES, check_preset, tfidf_matrix
from srma.review.screen.metrics import RECALL_LEVELS, n_screened_for_recall, rrf, wss
from srma.review.screen.models import (
    DEFAULT_MODEL,
    ModelName,
    check_model,
    fit_classifier,
    new_classifier,
    relevance,
)
from srma.review.screen.ranking import labels_array, order_by_relevance


@dataclass(frozen=True, eq=False)
class Simulation:
    """A replayed screening of a fully labelled set (see :func:`simulate`).

    ``order``: record positions in the order they were screened, the prior records
    first. ``recall_curve[k - 1]``: relevant records found after screening ``k``
    records (``k = 1..N``). ``wss95``, ``wss100``: work saved over sampling at 95%
    and 100% recall; ``rrf10``: share of relevant records found after screening 10%
    of the records (formulas in the module docstring). ``screened_to_recall``:
    records screened to reach each recall level of :data:`RECALL_LEVELS`.
    ``n_model_fits``: times the model was (re)trained; ``features``: the TF-IDF preset.
    ``stopped_model_early``: the
    model stopped being consulted once every relevant record had been found (the
    rest are all irrelevant, so their order cannot change any metric).
    """

    model: str
    seed: int
    batch_size: int
    n_records: int
    n_relevant: int
    prior_indices: tuple[int, ...]
    order: np.ndarray
    recall_curve: np.ndarray
    wss95: float
    wss100: float
    rrf10: float
    screened_to_recall: dict[float, int]
    n_model_fits: int
    stopped_model_early: bool
    features: str = DEFAULT_FEATURES

    @property
    def recall(self) -> np.ndarray:
        """Recall after each screened record: ``recall_curve / n_relevant``."""
        return self.recall_curve / self.n_relevant


def simulate(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    model: ModelName = DEFAULT_MODEL,
    prior_relevant: int = 1,
    prior_irrelevant: int = 1,
    seed: int = 0,
    batch_size: int = 1,
    features: str = DEFAULT_FEATURES,
    priors: Sequence[int] | None = None,
) -> Simulation:
    """Replay screening of a fully labelled set with active learning.

    1. Prior knowledge: ``prior_relevant`` relevant and ``prior_irrelevant``
       irrelevant records are drawn at random (``numpy.random.default_rng(seed)``)
       and screened first, relevant priors first, in the order drawn.
    2. Repeat until every record is screened: train the model on all records
       screened so far, rank the unscreened ones (:func:`rank_records`' rules,
       including its input-order fallback while a class is missing), and screen the
       top ``batch_size`` of the ranking. ``batch_size=1`` retrains after every
       decision, as ASReview's default does; larger batches cost ``N / batch_size``
       fits instead of ``N``.
    3. Once every relevant record has been found the rest are irrelevant and their
       order changes no metric; they are appended in input order without further
       fits (``stopped_model_early``).

    The TF-IDF matrix is computed once, with the ``features`` preset
    (:data:`srma.review.screen.features.PRESETS`: ``srma`` or ``asreview``). Naive Bayes
    retrains incrementally: it
    adds the new records' counts (``partial_fit``, identical to a refit). Logistic
    regression is refitted on all screened records with liblinear (fast on sparse
    data with few rows; a warm start from the previous coefficients would need a
    slower solver, L-BFGS, that was slower per fit here); use ``batch_size > 1`` to
    cut the number of fits.

    Priors are part of the screening order and count as screened work in every
    metric.
    """
    check_model(model)
    check_preset(features)
    n = len(texts)
    y = labels_array(labels, n)
    if (y < 0).any():
        raise InputError("simulate needs every record labelled 0 or 1")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if prior_relevant < 0 or prior_irrelevant < 0:
        raise InputError("prior counts must be non-negative")
    relevant = np.flatnonzero(y == 1)
    irrelevant = np.flatnonzero(y == 0)
    if relevant.size == 0:
        raise InputError("simulate needs at least one relevant record")
    if priors is None:
        if relevant.size < prior_relevant or irrelevant.size < prior_irrelevant:
            raise InputError(
                f"asked for {prior_relevant} relevant and {prior_irrelevant} irrelevant priors; "
                f"the set has {relevant.size} and {irrelevant.size}"
            )
        rng = np.random.default_rng(seed)
        prior_order = np.concatenate(
            [
                rng.choice(relevant, size=prior_relevant, replace=False),
                rng.choice(irrelevant, size=prior_irrelevant, replace=False),
            ]
        ).astype(np.int64)
    else:
        prior_order = given_priors(priors, y)

    X = tfidf_matrix(texts, features)
    has_features = X.shape[1] > 0
    screened = np.zeros(n, dtype=bool)
    order: list[int] = []
    classifier = new_classifier(model, seed)
    nb_seen = np.zeros(n, dtype=bool)  # rows already given to naive Bayes' partial_fit
    n_fits = 0
    stopped_early = False
    n_rel_total = int(relevant.size)

    def screen(indices: np.ndarray) -> None:
        screened[indices] = True
        order.extend(int(i) for i in indices)

    screen(prior_order)
    while len(order) < n:
        found = int(y[np.asarray(order, dtype=np.int64)].sum())
        unscreened = np.flatnonzero(~screened)
        if found == n_rel_total:
            stopped_early = True
            screen(unscreened)
            break
        labelled_y = y[screened]
        both = (labelled_y == 1).any() and (labelled_y == 0).any()
        if not (both and has_features):
            screen(unscreened[:batch_size])
            continue
        if model == "naive_bayes":
            new = np.flatnonzero(screened & ~nb_seen)
            classifier.partial_fit(X[new], y[new], classes=np.array([0, 1]))
            nb_seen[new] = True
        else:
            rows = np.flatnonzero(screened)
            fit_classifier(classifier, X[rows], y[rows])
        n_fits += 1
        probabilities = relevance(classifier, X[unscreened])
        ranked = unscreened[order_by_relevance(unscreened, probabilities)]
        screen(ranked[:batch_size])

    order_array = np.asarray(order, dtype=np.int64)
    in_order = y[order_array]
    curve = np.cumsum(in_order)
    for array in (order_array, curve):
        array.setflags(write=False)
    return Simulation(
        model=model,
        seed=seed,
        batch_size=batch_size,
        n_records=n,
        n_relevant=n_rel_total,
        prior_indices=tuple(int(i) for i in prior_order),
        order=order_array,
        recall_curve=curve,
        wss95=wss(in_order, 0.95),
        wss100=wss(in_order, 1.0),
        rrf10=rrf(in_order, 0.10),
        screened_to_recall={r: n_screened_for_recall(in_order, r) for r in RECALL_LEVELS},
        n_model_fits=n_fits,
        stopped_model_early=stopped_early,
        features=features,
    )


def given_priors(priors: Sequence[int], y: np.ndarray) -> np.ndarray:
    """``priors`` as an index array, or InputError unless they are distinct positions
    in ``0..N-1``."""
    values = list(priors)
    if not all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in values):
        raise InputError("priors must be integer record positions")
    order = np.asarray(values, dtype=np.int64)
    if order.size and (order.min() < 0 or order.max() >= y.size):
        raise InputError(f"priors must be record positions 0..{y.size - 1}")
    if np.unique(order).size != order.size:
        raise InputError("priors must not repeat a record")
    return order


def labelled_records(frame: pd.DataFrame, label: str, source: str) -> tuple[list[str], list[int]]:
    """Texts (title + abstract) and 0/1 labels; a bad label names its row."""
    columns = {str(c).lower(): c for c in frame.columns}
    if "title" not in columns and "abstract" not in columns:
        raise InputError("needs a title or an abstract column", file=source)
    if label not in frame.columns:
        raise InputError(f"no label column {label!r}", file=source, column=label)
    for row, value in enumerate(frame[label], start=1):
        if pd.isna(value) or str(value).strip() not in ("0", "1", "0.0", "1.0"):
            raise InputError(f"label must be 0 or 1, got {value!r}", file=source, row=row,
                             column=label)  # fmt: skip
    labels = [int(float(v)) for v in frame[label]]
    if sum(labels) == 0:
        raise InputError("no record is labelled 1 (relevant)", file=source, column=label)

    def text(name: str) -> pd.Series:
        column = columns.get(name)
        return frame[column].fillna("").astype(str) if column is not None else ""

    texts = (text("title") + " " + text("abstract")).str.strip()
    return list(texts), labels
