"""The screening fits run BLAS on one thread, and put the limit back when the last one ends,
also when fits overlap in several threads (srma.review.screen.models.fit_classifier)."""

from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from srma.review.screen.models import fit_classifier


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


class _Watched(LogisticRegression):
    """A logistic model that notes the BLAS thread counts in force while it fits."""

    seen: ClassVar[list[set[int]]] = []
    gate: ClassVar[threading.Barrier | None] = None

    def fit(self, X, y, sample_weight=None):  # scikit-learn's signature
        if _Watched.gate is not None:
            _Watched.gate.wait(timeout=10)  # both threads are inside a fit at once
        _Watched.seen.append(_blas_threads())
        return super().fit(X, y, sample_weight=sample_weight)


def test_blas_runs_on_one_thread_in_overlapping_fits_and_is_restored() -> None:
    before = _blas_threads()
    X = sp.csr_matrix(np.random.default_rng(0).random((40, 30)))
    y = np.array([0, 1] * 20)
    _Watched.seen, _Watched.gate = [], threading.Barrier(2)
    threads = [
        threading.Thread(target=fit_classifier, args=(_Watched(solver="liblinear"), X, y))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _Watched.gate = None
    fit_classifier(_Watched(solver="liblinear"), X, y)
    assert _Watched.seen == [{1}, {1}, {1}]
    assert _blas_threads() == before
