"""The treatment graph of a network: which treatments are connected by studies.

Vertices are treatments, and two are adjacent when a study compares them (the
adjacency matrix ``A = D - B'B`` of Rücker 2012, Res Synth Methods 3:312, with
``B`` the incidence matrix of all pairs).  A network whose graph falls apart
into several connected components has no estimate between them: each component
(subnetwork) is a network of its own (netmeta's ``netconnection``).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from srma.stats.network.data import ContrastData, IntArray


def components(data: ContrastData) -> IntArray:
    """The connected component of each treatment, ``0..C-1``, numbered in order of each
    component's first treatment."""
    n = data.n_treatments
    edges = coo_matrix((np.ones(data.n_contrasts), (data.treat1, data.treat2)), shape=(n, n))
    _, labels = connected_components(edges, directed=False)
    first = {}
    for label in labels.tolist():
        first.setdefault(label, len(first))
    return np.array([first[label] for label in labels.tolist()], dtype=np.int64)


def subnetwork(data: ContrastData, treatments: IntArray) -> ContrastData:
    """The contrasts among ``treatments`` (sorted codes of one component), recoded
    ``0..len-1`` in that order, with their studies recoded in order."""
    keep = np.isin(data.treat1, treatments)
    recode = np.full(data.n_treatments, -1, dtype=np.int64)
    recode[treatments] = np.arange(treatments.size)
    study_codes, study = np.unique(data.study[keep], return_inverse=True)
    return ContrastData(
        treatments=tuple(data.treatments[t] for t in treatments.tolist()),
        studies=tuple(data.studies[s] for s in study_codes.tolist()),
        study=study.astype(np.int64),
        treat1=recode[data.treat1[keep]],
        treat2=recode[data.treat2[keep]],
        y=data.y[keep],
        V=data.V[np.ix_(keep, keep)],
    )
