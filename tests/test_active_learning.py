"""Active-learning prioritisation: metrics worked by hand, ranking, fallback, simulation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.datasets.screening import load_screening, screening_texts
from srma.errors import InputError
from srma.review.screen.metrics import n_screened_for_recall, recall_curve, rrf, wss
from srma.review.screen.ranking import FALLBACK_REASON, rank_records
from srma.review.screen.simulation import simulate
from srma.review.screen.stopping import consecutive_irrelevant, stopping_heuristic

# --------------------------------------------------------------------------- metrics by hand


def test_metrics_hand_worked_ten_records():
    # N = 10, n = 2 relevant, found at screening positions 1 and 3.
    order = [1, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    # found(k): 1, 1, 2, 2, ..., 2
    assert recall_curve(order).tolist() == [1, 1, 2, 2, 2, 2, 2, 2, 2, 2]
    # R = 1: need ceil(1 * 2) = 2 relevant -> k = 3; WSS = (10 - 3)/10 - 0 = 0.7
    assert n_screened_for_recall(order, 1.0) == 3
    assert wss(order, 1.0) == pytest.approx(0.7, abs=1e-15)
    # R = 0.95: need ceil(1.9) = 2 -> k = 3; WSS = 0.7 - 0.05 = 0.65
    assert wss(order, 0.95) == pytest.approx(0.65, abs=1e-15)
    # R = 0.5: need ceil(1) = 1 -> k = 1
    assert n_screened_for_recall(order, 0.5) == 1
    # RRF@10: screen ceil(0.1 * 10) = 1 record, found(1) = 1 of 2 -> 0.5
    assert rrf(order, 0.10) == 0.5


def test_metrics_hand_worked_twenty_records():
    # N = 20, n = 4 relevant at positions 2, 5, 9, 20.
    order = [0] * 20
    for position in (2, 5, 9, 20):
        order[position - 1] = 1
    # R = 1: k = 20, WSS = 0/20 - 0 = 0
    assert wss(order, 1.0) == 0.0
    # R = 0.95: need ceil(3.8) = 4 -> k = 20, WSS = 0 - 0.05 = -0.05, the lower bound
    assert wss(order, 0.95) == pytest.approx(-0.05, abs=1e-15)
    # R = 0.75: need 3 -> k = 9, WSS = 11/20 - 0.25 = 0.30
    assert wss(order, 0.75) == pytest.approx(0.30, abs=1e-15)
    # RRF@10: ceil(2) = 2 records, found(2) = 1 of 4 -> 0.25
    assert rrf(order, 0.10) == 0.25


def test_metrics_use_exact_arithmetic_for_the_cut_points():
    # 0.1 * 30 is 3.0000000000000004 in floating point; RRF@10 must read 3 records.
    order = [0, 0, 1, 1] + [0] * 26
    assert rrf(order, 0.10) == 0.5  # found(3) = 1 of 2
    # 0.95 * 20 relevant must be 19, not 19-and-a-bit (which would need all 20).
    order = [1] * 20 + [0] * 80
    assert n_screened_for_recall(order, 0.95) == 19
    assert wss(order, 0.95) == pytest.approx(81 / 100 - 0.05, abs=1e-15)  # 0.76
    assert wss(order, 1.0) == pytest.approx(0.80, abs=1e-15)


def test_metrics_reject_bad_input():
    with pytest.raises(InputError):
        wss([0, 0, 0], 0.95)
    with pytest.raises(InputError):
        rrf([0, 2, 1])
    with pytest.raises(InputError):
        wss([1, 0], 1.5)


# --------------------------------------------------------------------------- stopping aid


def test_consecutive_irrelevant():
    assert consecutive_irrelevant([1, 0, 0, 1, 0, 0, 0]) == 3
    assert consecutive_irrelevant([0, 0]) == 2
    assert consecutive_irrelevant([1]) == 0
    assert consecutive_irrelevant([]) == 0


def test_stopping_heuristic():
    decisions = [1, 1, 0, 1] + [0] * 50
    advice = stopping_heuristic(decisions, threshold=50)
    assert advice.stop and advice.consecutive_irrelevant == 50 and advice.n_relevant_found == 3
    assert not stopping_heuristic(decisions, threshold=51).stop
    floor = stopping_heuristic(decisions, threshold=50, min_screened=100)
    assert not floor.stop and "fewer than 100" in floor.reason
    nothing = stopping_heuristic([0] * 60, threshold=50)
    assert not nothing.stop and "no relevant" in nothing.reason
    assert stopping_heuristic([0] * 60, threshold=50, require_relevant=False).stop
    with pytest.raises(InputError):
        stopping_heuristic(decisions, threshold=0)


# --------------------------------------------------------------------------- ranking

NUDGE = [
    "reminder nudge improves physician guideline adherence in hospital",
    "electronic reminder nudge for physician prescribing guideline",
    "default option nudge changes physician prescribing behaviour",
    "peer comparison feedback nudge reduces physician antibiotic prescribing",
]
OTHER = [
    "soil bacteria fix nitrogen in legume roots",
    "nitrogen uptake by soil bacteria under drought",
    "legume roots and soil microbial diversity",
    "drought stress changes legume root growth",
    "microbial diversity of agricultural soil",
    "root nodules of legume plants and nitrogen",
    "soil moisture and bacteria in drought",
    "plant growth in nitrogen poor soil",
]


def test_rank_records_puts_similar_records_first():
    texts = NUDGE + OTHER
    labels: list[int | None] = [None] * len(texts)
    labels[0] = 1  # one relevant
    labels[4] = 0  # one irrelevant
    for model in ("logistic", "naive_bayes"):
        ranking = rank_records(texts, labels, model=model)
        assert ranking.model_used and ranking.probabilities is not None
        assert sorted(ranking.indices.tolist()) == [i for i in range(12) if i not in (0, 4)]
        assert set(ranking.indices[:3].tolist()) == {1, 2, 3}
        assert np.all(np.diff(ranking.probabilities) <= 0)
        assert np.all((ranking.probabilities >= 0) & (ranking.probabilities <= 1))


def test_fallback_order_when_one_class_is_labelled():
    texts = NUDGE + OTHER
    labels: list[int | None] = [None] * len(texts)
    labels[2] = 1
    labels[5] = 1
    ranking = rank_records(texts, labels, model="logistic")
    assert not ranking.model_used
    assert ranking.probabilities is None
    assert ranking.reason == FALLBACK_REASON
    assert ranking.indices.tolist() == [i for i in range(12) if i not in (2, 5)]
    none = rank_records(texts, [None] * 12, model="naive_bayes")
    assert not none.model_used and none.indices.tolist() == list(range(12))


def test_rank_records_rejects_bad_input():
    with pytest.raises(InputError):
        rank_records(["a", "b"], [1])
    with pytest.raises(InputError):
        rank_records(["a", "b"], [1, 2])
    with pytest.raises(InputError):
        rank_records(["a", "b"], [1, 0], model="forest")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- simulation


@pytest.mark.parametrize("model", ["logistic", "naive_bayes"])
def test_simulate_separable_set_exact_metrics(model):
    # 4 relevant, 8 irrelevant: priors (1 relevant, 1 irrelevant) first, then the
    # model finds the 3 other relevant records -> all found at k = 5 of N = 12.
    texts = NUDGE + OTHER
    labels = [1] * 4 + [0] * 8
    sim = simulate(texts, labels, model=model, seed=3)
    assert sim.order[:2].tolist() == list(sim.prior_indices)
    assert sim.recall_curve[:5].tolist() == [1, 1, 2, 3, 4]
    assert sim.screened_to_recall[1.0] == 5
    assert sim.wss100 == pytest.approx((12 - 5) / 12, abs=1e-15)
    # 95%: ceil(3.8) = 4, same k; WSS = 7/12 - 0.05
    assert sim.wss95 == pytest.approx(7 / 12 - 0.05, abs=1e-15)
    # RRF@10: ceil(1.2) = 2 records screened, 1 relevant of 4
    assert sim.rrf10 == 0.25
    assert sim.stopped_model_early


def test_simulate_is_deterministic_and_seeded():
    texts = NUDGE + OTHER
    labels = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    for model in ("logistic", "naive_bayes"):
        a = simulate(texts, labels, model=model, seed=7, batch_size=2)
        b = simulate(texts, labels, model=model, seed=7, batch_size=2)
        assert a.order.tolist() == b.order.tolist()
        assert a.prior_indices == b.prior_indices
        assert (a.wss95, a.wss100, a.rrf10) == (b.wss95, b.wss100, b.rrf10)
    priors = {simulate(texts, labels, seed=s).prior_indices for s in range(6)}
    assert len(priors) > 1


def test_simulate_validates():
    with pytest.raises(InputError):
        simulate(["a b", "c d"], [1, None])  # type: ignore[list-item]
    with pytest.raises(InputError):
        simulate(["a b", "c d"], [0, 0])
    with pytest.raises(InputError):
        simulate(["a b", "c d"], [1, 0], prior_relevant=2)
    with pytest.raises(InputError):
        simulate(["a b", "c d"], [1, 0], batch_size=0)
    for bad in ([0, 0], [0, 2], [-1], [0.5]):
        with pytest.raises(InputError, match="priors"):
            simulate(["a b", "c d"], [1, 0], priors=bad)  # type: ignore[arg-type]


def test_given_priors_replace_the_draw():
    texts = NUDGE + OTHER
    labels = [1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0]
    for model in ("logistic", "naive_bayes", "svm"):
        drawn = simulate(texts, labels, model=model, seed=5)
        given = simulate(texts, labels, model=model, seed=5, priors=list(drawn.prior_indices))
        assert given.order.tolist() == drawn.order.tolist()
    # screened first in the order given (irrelevant first here), whatever the seed
    sim = simulate(texts, labels, priors=[3, 10], seed=0)
    assert sim.prior_indices == (3, 10) and sim.order[:2].tolist() == [3, 10]
    assert simulate(texts, labels, priors=[3, 10], seed=9).order[:2].tolist() == [3, 10]
    # one class only among the priors: input-order fallback until the other appears
    sim = simulate(texts, labels, priors=[3], seed=0)
    assert sim.order[:2].tolist() == [3, 0]
    assert sorted(sim.order.tolist()) == list(range(len(labels)))
    # no priors at all: the fallback from the first record
    assert simulate(texts, labels, priors=[]).order[:2].tolist() == [0, 1]


WORDS = ["nudge", "physician", "reminder", "soil", "bacteria", "drought", "trial", "default"]


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.lists(st.sampled_from(WORDS), min_size=0, max_size=6), st.booleans()),
        min_size=2,
        max_size=25,
    ),
    model=st.sampled_from(["logistic", "naive_bayes"]),
    batch_size=st.integers(1, 4),
    seed=st.integers(0, 10),
)
def test_simulation_properties(data, model, batch_size, seed):
    texts = [" ".join(words) for words, _ in data]
    labels = [int(flag) for _, flag in data]
    if sum(labels) == 0 or sum(labels) == len(labels):
        return
    sim = simulate(texts, labels, model=model, batch_size=batch_size, seed=seed)
    n, n_rel = len(labels), sum(labels)
    assert sorted(sim.order.tolist()) == list(range(n))
    curve = sim.recall_curve
    assert curve.size == n and np.all(np.diff(curve) >= 0) and np.all(np.diff(curve) <= 1)
    assert curve[0] >= 0 and curve[-1] == n_rel
    assert np.array_equal(curve, np.cumsum(np.asarray(labels)[sim.order]))
    assert -(1 - 0.95) - 1e-12 <= sim.wss95 <= 1.0
    assert 0.0 - 1e-12 <= sim.wss100 <= 1.0
    assert 0.0 <= sim.rrf10 <= 1.0
    levels = [sim.screened_to_recall[r] for r in sorted(sim.screened_to_recall)]
    assert levels == sorted(levels) and levels[-1] <= n


# --------------------------------------------------------------------------- the shipped set


@pytest.fixture(scope="module")
def nagtegaal():
    frame = load_screening("nagtegaal2019")
    return screening_texts(frame), frame["label_included"].tolist(), frame


def test_shipped_screening_set(nagtegaal):
    _, _, frame = nagtegaal
    assert frame.shape == (2019, 6)
    assert int(frame["label_abstract_screening"].sum()) == 392
    assert int(frame["label_included"].sum()) == 101
    # every final inclusion passed title/abstract screening
    assert not ((frame["label_included"] == 1) & (frame["label_abstract_screening"] == 0)).any()
    assert "CC0" in frame.attrs["licence"]
    assert "Nagtegaal" in frame.attrs["citation"]


@pytest.mark.parametrize(("model", "batch_size"), [("naive_bayes", 10), ("logistic", 25)])
def test_simulation_beats_random_screening_on_shipped_set(nagtegaal, model, batch_size):
    texts, labels, _ = nagtegaal
    sim = simulate(texts, labels, model=model, seed=0, batch_size=batch_size, features="srma")
    # Random screening: WSS@95 ~ 0 and RRF@10 ~ 0.10 in expectation.
    assert sim.wss95 > 0.40  # measured 0.51-0.70 over seeds 0-4 (docs/active_learning.md)
    assert sim.rrf10 > 0.30
    assert sim.recall_curve[-1] == 101
    assert sim.screened_to_recall[0.95] < 0.6 * sim.n_records


# Row, label and missing-abstract counts of ASReview's index.csv (commit 0909240f) for
# each source file; duplicates counted in the source's duplicate_record_id column.
@pytest.mark.parametrize(
    ("name", "n_records", "n_included", "n_no_abstract", "n_duplicates", "doi"),
    [
        ("nagtegaal2019", 2019, 101, 169, 11, "10.30636/jbpa.22.71"),
        ("bannach_brown2019", 1993, 280, 394, None, "10.1186/s13643-019-0942-7"),
        ("kitchenham2010", 1704, 45, 4, 6, "10.1016/j.infsof.2010.03.006"),
    ],
)
def test_every_shipped_screening_set(name, n_records, n_included, n_no_abstract, n_duplicates,
                                     doi):  # fmt: skip
    frame = load_screening(name)
    assert len(frame) == n_records
    assert frame["record_id"].is_unique
    assert int(frame["label_included"].sum()) == n_included
    assert int((frame["abstract"] == "").sum()) == n_no_abstract
    assert (frame["title"] != "").all()
    for column in frame.attrs["labels"]:
        assert set(frame[column].unique()) == {0, 1}
    if n_duplicates is None:
        assert "duplicate_record_id" not in frame.columns
    else:
        assert int(frame["duplicate_record_id"].notna().sum()) == n_duplicates
    assert doi in frame.attrs["citation"]
    expected = "CC0 1.0" if name == "nagtegaal2019" else "CC BY 4.0"
    assert frame.attrs["licence"].startswith(expected)
    assert frame.attrs["name"] == name and "0909240f" in frame.attrs["source"]


def test_unknown_screening_set_names_the_choices():
    with pytest.raises(KeyError, match="bannach_brown2019, kitchenham2010, nagtegaal2019"):
        load_screening("nope")


def test_the_dual_logistic_solver_reaches_the_primal_optimum(nagtegaal):
    """liblinear's dual solver (srma's) and its primal one minimise the same convex loss:
    the coefficients agree to the solvers' tolerance and the ranking is the same."""
    from sklearn.linear_model import LogisticRegression

    from srma.review.screen.features import tfidf_matrix
    from srma.review.screen.models import fit_classifier, new_classifier, relevance

    texts, labels, _ = nagtegaal
    X = tfidf_matrix(texts, "srma")
    labelled = np.arange(400)
    y = np.asarray(labels)[labelled]
    dual = new_classifier("logistic", seed=0)
    assert dual.get_params()["dual"] is True
    fit_classifier(dual, X[labelled], y)
    primal = LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear",
                                dual=False, tol=1e-10, max_iter=10000)  # fmt: skip
    primal.fit(X[labelled], y)
    rest = X[400:]
    scores_dual, scores_primal = relevance(dual, rest), relevance(primal, rest)
    assert np.max(np.abs(scores_dual - scores_primal)) < 1e-3
    top = 50
    assert np.array_equal(np.argsort(-scores_dual)[:top], np.argsort(-scores_primal)[:top])


def test_the_default_is_asreviews_model(nagtegaal):
    """Without options, ``simulate`` is ASReview's default model: the SVM on ASReview's
    TF-IDF, whose WSS@95 on this set is 0.731 with seed 0 (docs/active_learning.md)."""
    texts, labels, _ = nagtegaal
    default = simulate(texts, labels, seed=0, batch_size=20)
    assert (default.model, default.features) == ("svm", "asreview")
    explicit = simulate(texts, labels, seed=0, batch_size=20, model="svm", features="asreview")
    assert np.array_equal(default.order, explicit.order)
    logistic = simulate(texts, labels, seed=0, batch_size=20, model="logistic", features="srma")
    assert default.wss95 > logistic.wss95
