"""Active-learning prioritisation of title/abstract screening, as ASReview does it.

The screener labels records; a classifier trained on the labels so far ranks the
unscreened records by predicted relevance and the screener reads the top of the
ranking next ("certainty-based" or "max" query strategy). This is the design of
ASReview (van de Schoot R, de Bruin J, Schram R, et al. (2021). An open source
machine learning framework for efficient and transparent systematic reviews.
Nature Machine Intelligence 3:125-133, doi:10.1038/s42256-020-00287-7).

Features: TF-IDF of ``title + abstract`` (scikit-learn ``TfidfVectorizer`` with
sublinear term frequency ``1 + log(tf)``, English stop words, unigrams and
bigrams, accents stripped, and ``min_df=2``: a term must occur in at least two
records, relaxed to 1 when that leaves no vocabulary). Rows are L2-normalised.
The matrix is computed once on *all* records (labelled and not), as ASReview
does, so the vocabulary and IDF weights do not change while screening.

Models (``model=``):

* ``"logistic"``: L2-penalised logistic regression (C = 1, liblinear solver) with
  ``class_weight="balanced"``; see :func:`rank_records` for why.
* ``"naive_bayes"``: multinomial naive Bayes on the TF-IDF weights (additive
  smoothing ``alpha``, :data:`NB_ALPHA`); its class prior only shifts every
  record's log-odds by the same constant, so it cannot change the ranking and
  imbalance needs no correction.

Evaluation by simulation (:func:`simulate`) on a fully labelled set, with the
metrics used by ASReview and the screening-prioritisation literature; for a
complete screening order with ``N`` records, ``n`` of them relevant, and
``found(k)`` the relevant records among the first ``k`` screened:

* recall curve: ``found(k)`` for ``k = 1..N``;
* records screened to reach recall ``R``: ``k_R = min{k : found(k) >= ceil(R n)}``;
* work saved over sampling (Cohen AM, Hersh WR, Peterson K, Yen PY (2006).
  Reducing workload in systematic review preparation using automated citation
  classification. J Am Med Inform Assoc 13:206-219, doi:10.1197/jamia.M1929):
  ``WSS@R = (TN + FN) / N - (1 - R)`` where, screening stopped at ``k_R``, the
  ``N - k_R`` unread records count as predicted negatives, so
  ``WSS@R = (N - k_R) / N - (1 - R)``; it lies in ``[-(1 - R), R]``;
* relevant records found: ``RRF@p = found(ceil(p N)) / n``, the share of the
  relevant records found after screening a fraction ``p`` of all records.

Stopping: :func:`consecutive_irrelevant` and :func:`stopping_heuristic` (a
heuristic, not a guarantee; see its docstring for the literature).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from srma.errors import InputError

ModelName = Literal["logistic", "naive_bayes"]
MODELS: tuple[str, ...] = ("logistic", "naive_bayes")

#: Additive smoothing of the naive Bayes model. TF-IDF rows are L2-normalised, so a
#: record's weights are small; a small alpha keeps the smoothing from swamping them.
#: 0.01 was chosen on the shipped data set among 0.003, 0.01, 0.03, 0.1, 1 and 3.822.
NB_ALPHA = 0.01

#: Recall levels at which :class:`Simulation` reports the records screened.
RECALL_LEVELS: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 1.0)

FALLBACK_REASON = (
    "fewer than one relevant and one irrelevant label: no model trained, unscreened "
    "records returned in input order"
)


@dataclass(frozen=True, eq=False)
class Ranking:
    """Unscreened records ordered for screening.

    ``indices``: positions (into the input) of the unscreened records, most likely
    relevant first; ties keep input order. ``probabilities``: the model's predicted
    probability of relevance for each of ``indices`` (same order), or ``None`` when
    no model was trained. ``model_used`` says whether the order comes from a model
    (``True``) or is the fallback input order (``False``); ``reason`` says why.
    """

    indices: np.ndarray
    probabilities: np.ndarray | None
    model: str
    model_used: bool
    reason: str
    n_labelled_relevant: int
    n_labelled_irrelevant: int


@dataclass(frozen=True, eq=False)
class Simulation:
    """A replayed screening of a fully labelled set (see :func:`simulate`).

    ``order``: record positions in the order they were screened, the prior records
    first. ``recall_curve[k - 1]``: relevant records found after screening ``k``
    records (``k = 1..N``). ``wss95``, ``wss100``: work saved over sampling at 95%
    and 100% recall; ``rrf10``: share of relevant records found after screening 10%
    of the records (formulas in the module docstring). ``screened_to_recall``:
    records screened to reach each recall level of :data:`RECALL_LEVELS`.
    ``n_model_fits``: times the model was (re)trained. ``stopped_model_early``: the
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

    @property
    def recall(self) -> np.ndarray:
        """Recall after each screened record: ``recall_curve / n_relevant``."""
        return self.recall_curve / self.n_relevant


@dataclass(frozen=True)
class StopAdvice:
    """The outcome of :func:`stopping_heuristic`."""

    stop: bool
    consecutive_irrelevant: int
    threshold: int
    n_screened: int
    n_relevant_found: int
    min_screened: int
    reason: str


# --------------------------------------------------------------------------- features


def tfidf_matrix(texts: Sequence[str]) -> sp.csr_matrix:
    """TF-IDF features of ``texts`` (settings in the module docstring), one row per text.

    Returns a matrix with zero columns when no text has a usable word.
    """
    docs = [t if isinstance(t, str) else "" for t in texts]
    for min_df in (2, 1):
        vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            stop_words="english",
            ngram_range=(1, 2),
            min_df=min_df,
            strip_accents="unicode",
            dtype=np.float64,
        )
        try:
            return sp.csr_matrix(vectorizer.fit_transform(docs))
        except ValueError:  # empty vocabulary
            continue
    return sp.csr_matrix((len(docs), 0), dtype=np.float64)


# --------------------------------------------------------------------------- models


def _check_model(model: str) -> None:
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def _new_classifier(model: str, seed: int) -> LogisticRegression | MultinomialNB:
    if model == "logistic":
        return LogisticRegression(
            C=1.0,
            class_weight="balanced",
            solver="liblinear",
            max_iter=1000,
            random_state=seed,
        )
    return MultinomialNB(alpha=NB_ALPHA, fit_prior=False)


def _relevance(classifier: LogisticRegression | MultinomialNB, X: sp.csr_matrix) -> np.ndarray:
    column = list(classifier.classes_).index(1)
    return classifier.predict_proba(X)[:, column]


def _order_by_relevance(candidates: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Positions into ``candidates`` sorted by decreasing probability, ties by position."""
    return np.argsort(-probabilities, kind="stable")


def _labels_array(labels: Sequence[int | None], n: int) -> np.ndarray:
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
    texts: Sequence[str],
    labels: Sequence[int | None],
    *,
    model: ModelName = "logistic",
    seed: int = 0,
    features: sp.csr_matrix | None = None,
) -> Ranking:
    """Rank the unscreened records (label ``None``) by predicted relevance.

    ``features`` may hold ``tfidf_matrix(texts)`` computed before, so that an
    interactive session retraining after every decision builds it only once.

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
    _check_model(model)
    y = _labels_array(labels, len(texts))
    unscreened = np.flatnonzero(y < 0)
    n_rel = int(np.sum(y == 1))
    n_irr = int(np.sum(y == 0))
    if n_rel < 1 or n_irr < 1:
        return Ranking(unscreened, None, model, False, FALLBACK_REASON, n_rel, n_irr)
    X = tfidf_matrix(texts) if features is None else features
    if X.shape[0] != len(texts):
        raise InputError(f"features have {X.shape[0]} rows for {len(texts)} texts")
    if X.shape[1] == 0:
        reason = "no usable words in the texts: no model trained, input order kept"
        return Ranking(unscreened, None, model, False, reason, n_rel, n_irr)
    labelled = np.flatnonzero(y >= 0)
    classifier = _new_classifier(model, seed)
    classifier.fit(X[labelled], y[labelled])
    if unscreened.size == 0:
        probabilities = np.empty(0, dtype=np.float64)
    else:
        probabilities = _relevance(classifier, X[unscreened])
    order = _order_by_relevance(unscreened, probabilities)
    return Ranking(
        unscreened[order],
        probabilities[order],
        model,
        True,
        f"{model} model trained on {n_rel} relevant and {n_irr} irrelevant labels",
        n_rel,
        n_irr,
    )


# --------------------------------------------------------------------------- metrics


def _binary_order(labels_in_order: Sequence[int]) -> np.ndarray:
    y = np.asarray(labels_in_order)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all():
        raise InputError("labels in screening order must be a sequence of 0 and 1")
    return y.astype(np.int64)


def recall_curve(labels_in_order: Sequence[int]) -> np.ndarray:
    """``found(k)``, relevant records among the first ``k`` screened, for ``k = 1..N``."""
    return np.cumsum(_binary_order(labels_in_order))


def _target_count(n_relevant: int, recall: float) -> int:
    """``ceil(recall * n_relevant)`` in exact rational arithmetic (0.95 * 20 is 19, not 19+)."""
    if not 0.0 <= recall <= 1.0:
        raise InputError(f"recall must lie in [0, 1], got {recall}")
    return math.ceil(Fraction(str(recall)) * n_relevant)


def n_screened_for_recall(labels_in_order: Sequence[int], recall: float) -> int:
    """``k_R``: the fewest records screened, in this order, to reach recall ``recall``."""
    curve = recall_curve(labels_in_order)
    n_relevant = int(curve[-1]) if curve.size else 0
    if n_relevant == 0:
        raise InputError("no relevant records: recall is undefined")
    target = _target_count(n_relevant, recall)
    if target == 0:
        return 0
    return int(np.searchsorted(curve, target, side="left")) + 1


def wss(labels_in_order: Sequence[int], recall: float = 0.95) -> float:
    """Work saved over sampling at recall ``R`` (Cohen et al. 2006).

    ``WSS@R = (TN + FN) / N - (1 - R) = (N - k_R) / N - (1 - R)``, with ``k_R`` from
    :func:`n_screened_for_recall`: screening stops as soon as ``ceil(R n)`` of the
    ``n`` relevant records are found and the ``N - k_R`` unread records are the
    predicted negatives (TN + FN). Random screening has expected WSS near 0.
    """
    n = len(labels_in_order)
    k = n_screened_for_recall(labels_in_order, recall)
    return (n - k) / n - (1.0 - recall)


def rrf(labels_in_order: Sequence[int], fraction: float = 0.10) -> float:
    """Relevant records found after screening ``ceil(fraction * N)`` records, as a share.

    ``RRF@p = found(ceil(p N)) / n`` (``ceil`` in exact rational arithmetic).
    """
    curve = recall_curve(labels_in_order)
    n_relevant = int(curve[-1]) if curve.size else 0
    if n_relevant == 0:
        raise InputError("no relevant records: RRF is undefined")
    if not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction must lie in (0, 1], got {fraction}")
    k = math.ceil(Fraction(str(fraction)) * curve.size)
    return int(curve[k - 1]) / n_relevant


# --------------------------------------------------------------------------- simulation


def simulate(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    model: ModelName = "logistic",
    prior_relevant: int = 1,
    prior_irrelevant: int = 1,
    seed: int = 0,
    batch_size: int = 1,
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

    The TF-IDF matrix is computed once. Naive Bayes retrains incrementally: it
    adds the new records' counts (``partial_fit``, identical to a refit). Logistic
    regression is refitted on all screened records with liblinear (fast on sparse
    data with few rows; a warm start from the previous coefficients would need a
    slower solver, L-BFGS, that was slower per fit here); use ``batch_size > 1`` to
    cut the number of fits.

    Priors are part of the screening order and count as screened work in every
    metric.
    """
    _check_model(model)
    n = len(texts)
    y = _labels_array(labels, n)
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
    if relevant.size < prior_relevant or irrelevant.size < prior_irrelevant:
        raise InputError(
            f"asked for {prior_relevant} relevant and {prior_irrelevant} irrelevant priors; "
            f"the set has {relevant.size} and {irrelevant.size}"
        )
    rng = np.random.default_rng(seed)
    priors = np.concatenate(
        [
            rng.choice(relevant, size=prior_relevant, replace=False),
            rng.choice(irrelevant, size=prior_irrelevant, replace=False),
        ]
    ).astype(np.int64)

    X = tfidf_matrix(texts)
    has_features = X.shape[1] > 0
    screened = np.zeros(n, dtype=bool)
    order: list[int] = []
    classifier = _new_classifier(model, seed)
    nb_seen = np.zeros(n, dtype=bool)  # rows already given to naive Bayes' partial_fit
    n_fits = 0
    stopped_early = False
    n_rel_total = int(relevant.size)

    def screen(indices: np.ndarray) -> None:
        screened[indices] = True
        order.extend(int(i) for i in indices)

    screen(priors)
    while len(order) < n:
        found = int(y[np.asarray(order)].sum())
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
            classifier.fit(X[rows], y[rows])
        n_fits += 1
        probabilities = _relevance(classifier, X[unscreened])
        ranked = unscreened[_order_by_relevance(unscreened, probabilities)]
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
        prior_indices=tuple(int(i) for i in priors),
        order=order_array,
        recall_curve=curve,
        wss95=wss(in_order, 0.95),
        wss100=wss(in_order, 1.0),
        rrf10=rrf(in_order, 0.10),
        screened_to_recall={r: n_screened_for_recall(in_order, r) for r in RECALL_LEVELS},
        n_model_fits=n_fits,
        stopped_model_early=stopped_early,
    )


# --------------------------------------------------------------------------- stopping


def consecutive_irrelevant(labels_in_screening_order: Sequence[int]) -> int:
    """Length of the trailing run of irrelevant (0) decisions.

    ``labels_in_screening_order`` are the decisions made so far, oldest first.
    """
    y = _binary_order(labels_in_screening_order)
    relevant_positions = np.flatnonzero(y == 1)
    if relevant_positions.size == 0:
        return int(y.size)
    return int(y.size - 1 - relevant_positions[-1])


def stopping_heuristic(
    labels_in_screening_order: Sequence[int],
    *,
    threshold: int,
    min_screened: int = 0,
    require_relevant: bool = True,
) -> StopAdvice:
    """A data-driven stopping heuristic: stop after ``threshold`` irrelevant decisions in a row.

    Advises stopping when all of these hold:

    * the last ``threshold`` records screened (in prioritised order) were all
      irrelevant (:func:`consecutive_irrelevant` ``>= threshold``);
    * at least ``min_screened`` records have been screened (a user-chosen floor, e.g.
      a fixed share of the search results, so a run of bad luck early on cannot end
      screening);
    * at least one relevant record has been found (unless ``require_relevant`` is
      ``False``).

    ``threshold`` and ``min_screened`` are the user's choice; nothing here
    estimates recall. Heuristics of this kind are widely used with prioritised
    screening, but they give no guarantee about the recall achieved: Callaghan MW,
    Müller-Hansen F (2020). Statistical stopping criteria for automated screening in
    systematic reviews. Systematic Reviews 9:273, doi:10.1186/s13643-020-01521-4,
    show that such rules give inconsistent recall and work savings across data
    sets, and propose instead a stopping criterion based on a hypothesis test of
    having missed a recall target. Boetje J, van de Schoot R (2024). The SAFE
    procedure: a practical stopping heuristic for active learning-based screening
    in systematic reviews and meta-analyses. Systematic Reviews 13,
    doi:10.1186/s13643-024-02502-7, argue that no single rule suffices and combine
    several conservative heuristics; this function implements only the
    consecutive-irrelevant rule with a minimum-screened floor, one ingredient of
    such a procedure.
    """
    if threshold < 1:
        raise InputError(f"threshold must be at least 1, got {threshold}")
    if min_screened < 0:
        raise InputError(f"min_screened must be non-negative, got {min_screened}")
    y = _binary_order(labels_in_screening_order)
    run = consecutive_irrelevant(y)
    found = int(y.sum())
    n_screened = int(y.size)
    if run < threshold:
        stop, reason = False, f"{run} consecutive irrelevant decisions, fewer than {threshold}"
    elif n_screened < min_screened:
        stop, reason = False, f"{n_screened} records screened, fewer than {min_screened}"
    elif require_relevant and found == 0:
        stop, reason = False, "no relevant record found yet"
    else:
        stop = True
        reason = (
            f"{run} consecutive irrelevant decisions (threshold {threshold}) after "
            f"{n_screened} records screened, {found} relevant found"
        )
    return StopAdvice(stop, run, threshold, n_screened, found, min_screened, reason)


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
