"""The classifiers that rank records for screening (ASReview's design).

* ``"logistic"``: L2-penalised logistic regression (C = 1, liblinear solver on the
  dual problem, which has one variable per labelled record instead of one per
  feature: the same optimum, 1.2-1.4 times faster here) with
  ``class_weight="balanced"``; see :func:`srma.review.screen.ranking.rank_records`
  for why.
* ``"naive_bayes"``: multinomial naive Bayes on the TF-IDF weights (additive
  smoothing ``alpha``, :data:`NB_ALPHA`); its class prior only shifts every
  record's log-odds by the same constant, so it cannot change the ranking and
  imbalance needs no correction.
* ``"svm"``: ASReview's default classifier (its ``elas_u4`` model): a linear
  support vector machine (``LinearSVC``, C = :data:`SVM_C`, squared hinge loss)
  trained with ASReview's "balanced" sample weights (:func:`balanced_weights`,
  ratio :data:`BALANCE_RATIO`); records are ranked by the decision function
  ``w.x + b`` (a score, not a probability). It is the default model
  (:data:`DEFAULT_MODEL`), with ASReview's TF-IDF settings
  (:data:`srma.review.screen.features.DEFAULT_FEATURES`): on the three shipped
  labelled sets it gives ASReview's own recall curves (docs/active_learning.md).
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from threadpoolctl import ThreadpoolController

from srma.errors import InputError

ModelName = Literal["logistic", "naive_bayes", "svm"]
MODELS: tuple[str, ...] = ("logistic", "naive_bayes", "svm")
#: The model used unless another is asked for (ASReview's default, ``elas_u4``).
DEFAULT_MODEL: ModelName = "svm"

Classifier = LogisticRegression | MultinomialNB | LinearSVC

#: Regularisation of the linear SVM: ASReview's default (``elas_u4``) value.
SVM_C = 0.11
#: ASReview's "balanced" sampler ratio in its default model.
BALANCE_RATIO = 9.8

#: Additive smoothing of the naive Bayes model. TF-IDF rows are L2-normalised, so a
#: record's weights are small; a small alpha keeps the smoothing from swamping them.
#: 0.01 was chosen on the shipped data set among 0.003, 0.01, 0.03, 0.1, 1 and 3.822.
NB_ALPHA = 0.01


def check_model(model: str) -> None:
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def balanced_weights(y: np.ndarray, ratio: float = BALANCE_RATIO) -> np.ndarray:
    """ASReview's "balanced" sample weights for labels ``y`` (1 relevant, 0 irrelevant).

    A relevant record weighs 1 and an irrelevant one ``n1 / (ratio n0)``
    (``n1``, ``n0``: the class counts), then all weights are scaled so that they
    sum to ``n = n0 + n1``. Requires both classes to be present.
    """
    y = np.asarray(y)
    n1 = float(np.sum(y == 1))
    n0 = float(np.sum(y == 0))
    if n1 == 0 or n0 == 0:
        raise InputError("balanced weights need at least one relevant and one irrelevant label")
    weights = np.where(y == 1, 1.0, n1 / (ratio * n0))
    return weights * (y.size / weights.sum())


def new_classifier(model: str, seed: int) -> Classifier:
    if model == "logistic":
        return LogisticRegression(
            C=1.0,
            class_weight="balanced",
            solver="liblinear",
            dual=True,
            max_iter=1000,
            random_state=seed,
        )
    if model == "svm":
        return LinearSVC(C=SVM_C, loss="squared_hinge", random_state=seed)
    return MultinomialNB(alpha=NB_ALPHA, fit_prior=False)


class _OneBlasThread:
    """BLAS on one thread while a fit runs in the main thread.

    liblinear calls BLAS level-1 routines (dot products, axpy) on vectors of the
    vocabulary's length, thousands of times per fit. OpenBLAS's threads cost more than
    they save there and spin when the other cores are busy: a 5 ms logistic fit of
    2,019 records took 180-370 ms with OpenBLAS's 2 threads on a loaded 2-core machine.
    threadpoolctl sets the limit. OpenBLAS takes a thread count set from the main thread
    only (measured here: a limit set in another thread leaves it at 2), so in other threads
    this does nothing; a server that fits in a thread pool limits BLAS once, at start
    (``srma serve`` does).
    """

    def __init__(self) -> None:
        self._controller: ThreadpoolController | None = None
        self._limited: object = None

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            if self._controller is None:  # scans the loaded libraries once
                self._controller = ThreadpoolController()
            self._limited = self._controller.limit(limits=1, user_api="blas")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        if self._limited is not None:
            self._limited.restore_original_limits()  # type: ignore[attr-defined]
            self._limited = None


_ONE_BLAS_THREAD = _OneBlasThread()


def fit_classifier(classifier: Classifier, X: sp.csr_matrix, y: np.ndarray) -> None:
    """Fit ``classifier`` on ``X``, ``y`` (BLAS on one thread); the SVM gets
    :func:`balanced_weights`."""
    with _ONE_BLAS_THREAD:
        if isinstance(classifier, LinearSVC):
            classifier.fit(X, y, sample_weight=balanced_weights(y))
        else:
            classifier.fit(X, y)


def relevance(classifier: Classifier, X: sp.csr_matrix) -> np.ndarray:
    """Relevance scores of the rows of ``X``: the predicted probability of class 1,
    or for the SVM its decision function (higher = more likely relevant)."""
    if isinstance(classifier, LinearSVC):
        return np.asarray(classifier.decision_function(X), dtype=np.float64)
    column = list(classifier.classes_).index(1)
    return classifier.predict_proba(X)[:, column]
