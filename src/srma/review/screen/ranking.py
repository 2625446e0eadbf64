"""Ranking unscreened records by predicted relevance (active learning, ASReview's design).

The screener labels records; a classifier trained on the labels so far ranks the
unscreened records by predicted relevance and the screener reads the top of the
ranking next ("certainty-based" or "max" query strategy): van de Schoot R, de
Bruin J, Schram R, et al. (2021). An open source machine learning framework for
efficient and transparent systematic reviews. Nature Machine Intelligence
3:125-133, doi:10.1038/s42256-020-00287-7. Features:
:mod:`srma.review.screen.features`; models: :mod:`srma.review.screen.models`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from srma.errors import InputError
from srma.review.screen.features import tfidf_matrix
from srma.review.screen.models import (
    DEFAULT_MODEL,
    ModelName,
    check_model,
    fit_classifier,
    new_classifier,
    relevance,
)

FALLBACK_REASON = (
    "fewer than one relevant and one irrelevant label: no model trained, unscreened "
    "records returned in input order"
)


@dataclass(frozen=True, eq=False)
class Ranking:
    """Unscreened records ordered for screening.

    ``indices``: positions (into the input) of the unscreened records, most likely
    relevant first; ties keep input order. ``probabilities``: the model's predicted
    probability of relevance for each of ``indices`` (same order; for ``"svm"`` its
    decision-function score, not a probability), or ``None`` when no model was
    trained. ``model_used`` says whether the order comes from a model (``True``)
    or is the fallback input order (``False``); ``reason`` says why.
    """

    indices: np.ndarray
    probabilities: np.ndarray | None
    model: str
    model_used: bool
    reason: str
    n_labelled_relevant: int
    n_labelled_irrelevant: int


def order_by_relevance(candidates: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Positions into ``candidates`` sorted by decreasing probability, ties by position."""
    return np.argsort(-probabilities, kind="stable")


def labels_array(labels: Sequence[int | None], n: int) -> np.ndarray:
    """Labels as an int array with -1 for unscreened; validates values and length."""
    if len(labels) != n:
        raise InputError(f"{n} texts but {len(labels)} labels")
    out = np.empty(n, dtype=np.int64)
    for i, label in enumerate(labels):
        if label is None or (isinstance(label, float) and math.isnan(label)):
            out[i] = -1
        elif label in (0, 1) and not isinstance(label, bool | str):
            out[i] = int(label)
        else:
            raise InputError(f"label {i} is {label!r}; use 1 (relevant), 0 or None")
    return out


def rank_records(
    texts: Sequence[str] | None,
    labels: Sequence[int | None],
    *,
    model: ModelName = DEFAULT_MODEL,
    seed: int = 0,
    features: sp.csr_matrix | None = None,
) -> Ranking:
    """Rank the unscreened records (label ``None``) by predicted relevance.

    ``features`` may hold ``tfidf_matrix(texts)`` computed before, so that an
    interactive session retraining after every decision builds it only once;
    ``texts`` may then be ``None`` (the matrix has a row per record).

    A classifier is trained on the labelled records (1 = relevant, 0 = irrelevant)
    with TF-IDF features of ``texts`` (module docstring) and scores the unscreened
    ones; they are returned most likely relevant first, ties in input order.

    With no relevant or no irrelevant label there is nothing to learn from: the
    unscreened records come back in input order, ``probabilities`` is ``None``,
    ``model_used`` is ``False`` and ``reason`` says so. The same fallback applies
    when no text has a usable word.

    Class imbalance: relevant records are typically 1-5% of a search. Unweighted
    logistic regression minimises the total log-loss, which the irrelevant majority
    dominates, so early in screening (one or two relevant labels against dozens of
    irrelevant ones) it shrinks every predicted probability towards zero and the
    few relevant examples barely move the decision function. ``class_weight=
    "balanced"`` weights each class by ``N / (2 N_class)`` so that both classes
    contribute equally to the loss; the relevant examples then shape the ranking.
    Naive Bayes
    needs no correction: its class prior adds the same constant to every record's
    log-odds and so cannot change the order.

    ``seed`` is passed to the classifier's ``random_state``; both models are
    deterministic for given inputs.
    """
    check_model(model)
    if texts is None and features is None:
        raise InputError("rank_records needs the texts or their features")
    n = features.shape[0] if texts is None else len(texts)
    y = labels_array(labels, n)
    unscreened = np.flatnonzero(y < 0)
    n_rel = int(np.sum(y == 1))
    n_irr = int(np.sum(y == 0))
    if n_rel < 1 or n_irr < 1:
        return Ranking(unscreened, None, model, False, FALLBACK_REASON, n_rel, n_irr)
    X = tfidf_matrix(texts) if features is None else features
    if X.shape[0] != n:
        raise InputError(f"features have {X.shape[0]} rows for {n} texts")
    if X.shape[1] == 0:
        reason = "no usable words in the texts: no model trained, input order kept"
        return Ranking(unscreened, None, model, False, reason, n_rel, n_irr)
    labelled = np.flatnonzero(y >= 0)
    classifier = new_classifier(model, seed)
    fit_classifier(classifier, X[labelled], y[labelled])
    if unscreened.size == 0:
        probabilities = np.empty(0, dtype=np.float64)
    else:
        probabilities = relevance(classifier, X[unscreened])
    order = order_by_relevance(unscreened, probabilities)
    return Ranking(
        unscreened[order],
        probabilities[order],
        model,
        True,
        f"{model} model trained on {n_rel} relevant and {n_irr} irrelevant labels",
        n_rel,
        n_irr,
    )
