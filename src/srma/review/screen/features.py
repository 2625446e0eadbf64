"""TF-IDF features of ``title + abstract`` for screening prioritisation.

Settings: scikit-learn ``TfidfVectorizer`` with sublinear term frequency
``1 + log(tf)``, English stop words, unigrams and bigrams, accents stripped, and
``min_df=2``: a term must occur in at least two records, relaxed to 1 when that
leaves no vocabulary. Rows are L2-normalised. The matrix is computed once on
*all* records (labelled and not), as ASReview does, so the vocabulary and IDF
weights do not change while screening.

``preset="asreview"`` gives ASReview LAB's default feature extractor instead
(``asreview.models.feature_extractors.Tfidf`` of its ``elas_u4`` model):
unigrams and bigrams, sublinear term frequency, ``min_df=1``, ``max_df=0.95``,
no stop words and no accent stripping (van de Schoot et al. 2021, Nat Mach Intell
3:125-133; ASReview's defaults as of version 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from srma.errors import InputError

#: The preset used unless another is asked for: ASReview's, which gave the higher WSS@95
#: on two of the three shipped labelled sets (docs/active_learning.md).
DEFAULT_FEATURES = "asreview"

#: The TF-IDF settings by name: srma's (the module docstring) and ASReview's default.
PRESETS: dict[str, dict[str, object]] = {
    "srma": {"stop_words": "english", "strip_accents": "unicode", "min_df": 2},
    "asreview": {"min_df": 1, "max_df": 0.95},
}


def check_preset(preset: str) -> str:
    """The preset's name, or InputError naming the choices."""
    if preset not in PRESETS:
        raise InputError(f"unknown features {preset!r}; expected one of {', '.join(PRESETS)}")
    return preset


def tfidf_matrix(texts: Sequence[str], preset: str = DEFAULT_FEATURES) -> sp.csr_matrix:
    """TF-IDF features of ``texts`` (settings in the module docstring), one row per text.

    Returns a matrix with zero columns when no text has a usable word.
    """
    settings = dict(PRESETS[check_preset(preset)])
    docs = [t if isinstance(t, str) else "" for t in texts]
    for min_df in (int(settings.pop("min_df")), 1):  # type: ignore[call-overload]
        vectorizer = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2),
            min_df=min_df,
            dtype=np.float64,
            **settings,  # type: ignore[arg-type]
        )
        try:
            return sp.csr_matrix(vectorizer.fit_transform(docs))
        except ValueError:  # empty vocabulary (or max_df below min_df on a tiny set)
            continue
    return sp.csr_matrix((len(docs), 0), dtype=np.float64)
