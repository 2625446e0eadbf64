"""How much each direct comparison contributes to each network estimate.

The aggregate hat matrix (Rücker 2012, Res Synth Methods 3:312; König, Krahn & Binder
2013, Stat Med 32:5414) writes the network estimates as linear combinations of the
direct estimates of the ``E`` compared pairs
(:func:`~srma.stats.network.gls.direct_estimates`): with ``B`` the ``E x T``
edge-vertex incidence of those pairs, ``W = diag(1 / var_direct)`` and ``L = B'WB``
the weighted Laplacian, the network estimate of ``a - b`` is ``c_ab' L^+ B'W y_direct``
(``c_ab = e_a - e_b``), so ``H = C L^+ B'W`` for the rows ``C`` of the comparisons of
interest.  ``H`` reproduces the contrast-level network estimates exactly, because a
study's part of the normal equations is the sum over its pairs of their reduced
weights (Rücker & Schwarzer 2014, Biom J 56:1).

Each row of ``H`` is a flow of total 1 from ``a`` to ``b`` through the network of
direct comparisons (``B' h = c_ab``).  Papakonstantinou et al. (2018, F1000Research
7:610) split it into streams, each a shortest path; the contribution of a direct
comparison is the sum over the streams through it of the stream's flow over its
length, and the contributions of a row sum to 100%.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srma.stats.batch import FloatArray
from srma.stats.network.data import IntArray
from srma.stats.network.gls import DirectEstimates


@dataclass(frozen=True)
class HatMatrix:
    """``matrix[r, e]``: the weight of the direct estimate of comparison ``e``
    (``column_treat1[e] - column_treat2[e]``) in the network estimate of comparison
    ``r`` (``row_treat1[r] - row_treat2[r]``)."""

    matrix: FloatArray
    row_treat1: IntArray
    row_treat2: IntArray
    column_treat1: IntArray
    column_treat2: IntArray
    n_treatments: int


def all_pairs(n_treatments: int) -> tuple[IntArray, IntArray]:
    """Every pair ``i < j`` of ``n_treatments`` treatments, in row-major order."""
    first, second = np.triu_indices(n_treatments, 1)
    return first.astype(np.int64), second.astype(np.int64)


def hat_matrix(
    direct: DirectEstimates,
    n_treatments: int,
    treat1: IntArray | None = None,
    treat2: IntArray | None = None,
) -> HatMatrix:
    """``H = C L^+ B'W`` (module docstring) for the comparisons ``treat1 - treat2``
    (default: every pair ``i < j``), from the reduced-weight direct estimates
    (``direct_estimates(..., multi_arm="reduced")``, as netmeta's ``hatmatrix.aggr``):
    with a multi-arm study's comparisons at their own variances it would count more than
    once.  The network of direct comparisons must be connected for the rows between its
    parts to mean anything."""
    if direct.multi_arm != "reduced":
        raise ValueError(
            "the hat matrix needs the reduced-weight direct estimates (multi_arm='reduced'), "
            f"got multi_arm={direct.multi_arm!r}"
        )
    if treat1 is None or treat2 is None:
        treat1, treat2 = all_pairs(n_treatments)
    edges = np.arange(direct.treat1.shape[0])
    incidence = np.zeros((edges.shape[0], n_treatments))
    incidence[edges, direct.treat1] = 1.0
    incidence[edges, direct.treat2] = -1.0
    weighted = incidence.T / direct.variance  # B'W
    laplacian_inverse = np.linalg.pinv(weighted @ incidence, hermitian=True)
    rows = np.arange(np.asarray(treat1).shape[0])
    contrasts = np.zeros((rows.shape[0], n_treatments))
    contrasts[rows, treat1] = 1.0
    contrasts[rows, treat2] -= 1.0
    return HatMatrix(
        matrix=contrasts @ laplacian_inverse @ weighted,
        row_treat1=np.asarray(treat1, dtype=np.int64),
        row_treat2=np.asarray(treat2, dtype=np.int64),
        column_treat1=direct.treat1,
        column_treat2=direct.treat2,
        n_treatments=n_treatments,
    )


def proportion_direct(hat: HatMatrix) -> FloatArray:
    """The proportion of direct evidence in each row's network estimate: the hat-matrix
    weight of its own direct estimate, ``var_network / var_direct`` with the reduced-weight
    direct variance (König et al. 2013, section 3.4.1; Papakonstantinou et al. 2018), 0 for
    a comparison no study makes.  Where multi-arm studies make the comparison it is below
    netsplit's proportion (:func:`~srma.stats.network.inconsistency.node_split`), whose
    direct variance takes each study's contrast at its own variance."""
    column = {
        (int(a), int(b)): e
        for e, (a, b) in enumerate(zip(hat.column_treat1, hat.column_treat2, strict=True))
    }
    out = np.zeros(hat.row_treat1.shape[0])
    for r, (a, b) in enumerate(zip(hat.row_treat1.tolist(), hat.row_treat2.tolist(), strict=True)):
        if (a, b) in column:
            out[r] = hat.matrix[r, column[(a, b)]]
        elif (b, a) in column:
            out[r] = -hat.matrix[r, column[(b, a)]]
    return out


@dataclass(frozen=True)
class ContributionMatrix:
    """``percent[r, e]``: the share (%) of direct comparison ``e`` in the network
    estimate of comparison ``r``, by shortest-path streams; rows sum to 100."""

    percent: FloatArray
    row_treat1: IntArray
    row_treat2: IntArray
    column_treat1: IntArray
    column_treat2: IntArray


def _streams(
    flow: list[float],
    heads: list[int],
    tails: list[int],
    ends: tuple[int, int],
    n: int,
    floor: float,
) -> list[float]:
    """Split one row's flow into shortest-path streams; the contribution of each edge.

    ``flow[e]`` runs from ``heads[e]`` to ``tails[e]``.  Each round finds a path with the
    fewest edges from ``source`` to ``sink`` among the edges with flow left (breadth
    first; ties go to the edge listed first), takes its least flow ``phi`` off each of its
    edges and credits each ``phi / length``; edges left with at most ``floor`` (rounding)
    leave the graph.
    """
    source, sink = ends
    contribution = [0.0] * len(flow)
    outgoing: list[list[int]] = [[] for _ in range(n)]
    for e, amount in enumerate(flow):
        if amount > floor:
            outgoing[heads[e]].append(e)
    while True:
        reached_by = [-1] * n
        reached_by[source] = -2
        frontier = [source]
        found = False
        while frontier and not found:
            following: list[int] = []
            for node in frontier:
                for e in outgoing[node]:
                    nxt = tails[e]
                    if reached_by[nxt] == -1:
                        reached_by[nxt] = e
                        if nxt == sink:
                            found = True
                            break
                        following.append(nxt)
                if found:
                    break
            frontier = following
        if not found:
            return contribution
        path = []
        node = sink
        while node != source:
            edge = reached_by[node]
            path.append(edge)
            node = heads[edge]
        phi = min(flow[e] for e in path)
        share = phi / len(path)
        for e in path:
            contribution[e] += share
            flow[e] -= phi
            if flow[e] <= floor:
                outgoing[heads[e]].remove(e)


def contribution_matrix(hat: HatMatrix, *, tolerance: float = 1e-12) -> ContributionMatrix:
    """The contribution matrix of Papakonstantinou et al. (2018, "shortest path"
    streams algorithm, as netmeta's ``netcontrib(method = "shortestpath")``).

    For the row of ``a - b``: edge ``e`` carries flow ``|h_e|`` from ``treat1[e]`` to
    ``treat2[e]`` (the other way when ``h_e < 0``).  Repeatedly take a shortest path from
    ``a`` to ``b`` among the edges with flow, let ``phi`` be the least flow on it, add
    ``phi / length`` to the contribution of each of its edges and take ``phi`` off them,
    until no path is left.  The streams carry the whole unit of flow, so each row sums
    to 100%.  Flows at most ``tolerance`` times the row's largest (at least 1) are
    rounding and dropped.  A graph algorithm, one row at a time, in plain Python lists
    (a breadth-first search per stream on a graph of T nodes).
    """
    n_rows, n_edges = hat.matrix.shape
    percent = np.zeros((n_rows, n_edges))
    for r in range(n_rows):
        h = hat.matrix[r]
        forward = h >= 0.0
        heads = np.where(forward, hat.column_treat1, hat.column_treat2)
        tails = np.where(forward, hat.column_treat2, hat.column_treat1)
        flow = np.abs(h)
        percent[r] = _streams(
            flow.tolist(),
            heads.tolist(),
            tails.tolist(),
            (int(hat.row_treat1[r]), int(hat.row_treat2[r])),
            hat.n_treatments,
            tolerance * max(float(flow.max(initial=0.0)), 1.0),
        )
    return ContributionMatrix(
        percent=100.0 * percent,
        row_treat1=hat.row_treat1,
        row_treat2=hat.row_treat2,
        column_treat1=hat.column_treat1,
        column_treat2=hat.column_treat2,
    )
