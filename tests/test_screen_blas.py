"""The screening fits run BLAS on one thread and put the limit back afterwards
(srma.review.screen.models.fit_classifier, in the main thread where OpenBLAS takes it)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from srma.review.screen.models import fit_classifier


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


class _Watched(LogisticRegression):
    """A logistic model that notes the BLAS thread counts in force while it fits."""

    seen: ClassVar[list[set[int]]] = []

    def fit(self, X, y, sample_weight=None):  # scikit-learn's signature
        _Watched.seen.append(_blas_threads())
        return super().fit(X, y, sample_weight=sample_weight)


def test_blas_runs_on_one_thread_in_a_fit_and_is_restored() -> None:
    X = sp.csr_matrix(np.random.default_rng(0).random((40, 30)))
    y = np.array([0, 1] * 20)
    with threadpool_limits(limits=2, user_api="blas"):  # as on a machine of 2 or more cores
        before = _blas_threads()
        _Watched.seen = []
        fit_classifier(_Watched(solver="liblinear"), X, y)
        fit_classifier(_Watched(solver="liblinear"), X, y)
        assert _Watched.seen == [{1}, {1}]
        assert _blas_threads() == before
