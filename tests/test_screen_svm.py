"""The ``svm`` screening model (ASReview's default) and its balanced sample weights."""

import numpy as np
import pytest

from srma.errors import InputError
from srma.review.screen.features import tfidf_matrix
from srma.review.screen.models import BALANCE_RATIO, balanced_weights, check_model
from srma.review.screen.ranking import rank_records
from srma.review.screen.simulation import simulate

TEXTS = [
    "statin therapy reduces cardiovascular mortality in randomised trial",
    "randomised trial of statin therapy and stroke",
    "soil bacteria in arctic tundra",
    "arctic tundra vegetation survey",
    "statin dose and cardiovascular events randomised",
    "tundra permafrost carbon flux",
    "bird migration over arctic tundra",
    "cardiovascular outcomes of statin therapy meta-analysis",
]


def test_balanced_weights_follow_asreview_definition():
    y = np.array([1, 0, 0, 0, 1, 0, 0])
    w = balanced_weights(y)
    n1, n0 = 2, 5
    raw = np.where(y == 1, 1.0, n1 / (BALANCE_RATIO * n0))
    np.testing.assert_allclose(w, raw * y.size / raw.sum(), rtol=1e-15)
    assert w.sum() == pytest.approx(y.size, rel=1e-15)
    # relevant : irrelevant class total weight is ratio : 1
    assert w[y == 1].sum() / w[y == 0].sum() == pytest.approx(BALANCE_RATIO, rel=1e-12)


def test_balanced_weights_need_both_classes():
    with pytest.raises(InputError, match="at least one relevant and one irrelevant"):
        balanced_weights(np.array([1, 1]))


def test_svm_is_a_known_model_and_bad_names_are_refused():
    check_model("svm")
    with pytest.raises(InputError, match=r"unknown model 'svn'.*svm"):
        check_model("svn")


def test_svm_ranks_the_statin_records_first():
    labels = [1, None, 0, 0, None, None, None, None]
    ranking = rank_records(TEXTS, labels, model="svm")
    assert ranking.model_used
    top = set(int(i) for i in ranking.indices[:3])
    assert top == {1, 4, 7}
    scores = ranking.probabilities
    assert np.all(np.diff(scores) <= 0)


def test_svm_ranking_equals_decision_function_of_weighted_linearsvc():
    from sklearn.svm import LinearSVC

    labels = [1, None, 0, 0, None, None, None, 0]
    X = tfidf_matrix(TEXTS)
    y = np.array([-1 if v is None else v for v in labels])
    rows = np.flatnonzero(y >= 0)
    clf = LinearSVC(C=0.11, loss="squared_hinge", random_state=0)
    clf.fit(X[rows], y[rows], sample_weight=balanced_weights(y[rows]))
    unscreened = np.flatnonzero(y < 0)
    expected = clf.decision_function(X[unscreened])
    ranking = rank_records(TEXTS, labels, model="svm")
    order = np.argsort(-expected, kind="stable")
    np.testing.assert_array_equal(ranking.indices, unscreened[order])
    np.testing.assert_allclose(ranking.probabilities, expected[order], rtol=1e-12)


def test_svm_simulation_screens_every_record_once():
    labels = [1, 1, 0, 0, 1, 0, 0, 1]
    result = simulate(TEXTS, labels, model="svm", seed=0)
    assert sorted(int(i) for i in result.order) == list(range(len(TEXTS)))
    assert int(result.recall_curve[-1]) == 4


def test_the_asreview_preset_is_asreviews_tfidf() -> None:
    """``features="asreview"``: ASReview LAB's default extractor (1-2 grams, sublinear tf,
    min_df 1, max_df 0.95, no stop words), cell for cell."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["stem cells in stroke", "the stroke trial of stem cells", "the the the", "rats"]
    expected = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, max_df=0.95)
    want = expected.fit_transform(texts).toarray()
    got = tfidf_matrix(texts, "asreview").toarray()
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=0)
    assert tfidf_matrix(texts, "srma").shape[1] < got.shape[1]  # srma's own drops stop words


def test_an_unknown_preset_names_the_choices() -> None:
    with pytest.raises(InputError, match="srma, asreview"):
        tfidf_matrix(["a text"], "bert")
    with pytest.raises(InputError, match="unknown features 'bert'"):
        simulate(["a b", "c d"], [1, 0], features="bert")
