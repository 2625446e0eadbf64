"""TF-IDF features of ``title + abstract`` for screening prioritisation.

Settings: scikit-learn ``TfidfVectorizer`` with sublinear term frequency
``1 + log(tf)``, English stop words, unigrams and bigrams, accents stripped, and
``min_df=2``: a term must occur in at least two records, relaxed to 1 when that
leaves no vocabulary. Rows are L2-normalised. The matrix is computed once on
*all* records (labelled and not), as ASReview does, so the vocabulary and IDF
weights do not change while screening.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer


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
