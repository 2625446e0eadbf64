"""The classifiers that rank records for screening (ASReview's design).

* ``"logistic"``: L2-penalised logistic regression (C = 1, liblinear solver) with
  ``class_weight="balanced"``; see :func:`srma.review.screen.ranking.rank_records`
  for why.
* ``"naive_bayes"``: multinomial naive Bayes on the TF-IDF weights (additive
  smoothing ``alpha``, :data:`NB_ALPHA`); its class prior only shifts every
  record's log-odds by the same constant, so it cannot change the ranking and
  imbalance needs no correction.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from srma.errors import InputError

ModelName = Literal["logistic", "naive_bayes"]
MODELS: tuple[str, ...] = ("logistic", "naive_bayes")

#: Additive smoothing of the naive Bayes model. TF-IDF rows are L2-normalised, so a
#: record's weights are small; a small alpha keeps the smoothing from swamping them.
#: 0.01 was chosen on the shipped data set among 0.003, 0.01, 0.03, 0.1, 1 and 3.822.
NB_ALPHA = 0.01


def check_model(model: str) -> None:
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def new_classifier(model: str, seed: int) -> LogisticRegression | MultinomialNB:
    if model == "logistic":
        return LogisticRegression(
            C=1.0,
            class_weight="balanced",
            solver="liblinear",
            max_iter=1000,
            random_state=seed,
        )
    return MultinomialNB(alpha=NB_ALPHA, fit_prior=False)


def relevance(classifier: LogisticRegression | MultinomialNB, X: sp.csr_matrix) -> np.ndarray:
    column = list(classifier.classes_).index(1)
    return classifier.predict_proba(X)[:, column]
