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

    ``flow[e]`` runs from ``heads[e]`` to ``tails[e]``.  Each round takes, among the paths
    with the fewest edges from ``source`` to ``sink`` on the edges with flow left, the
    first in lexicographic order of its edges' indices (the path a breadth-first search
    that scans each node's edges in index order finds), takes its least flow ``phi`` off
    each of its edges and credits each ``phi / length``; edges left with at most
    ``floor`` (rounding) leave the graph.

    Found as in Dinic's maximum-flow algorithm (Dinic 1970, Soviet Math Dokl 11:1277): a
    breadth-first search labels every node with its distance from the source; while the
    sink's distance stays ``D``, the shortest paths are the paths of ``D`` edges that go
    one level up at each step, and a depth-first search that tries each node's edges in
    index order, remembers where it stopped (``pointer``) and drops the nodes from which
    the sink cannot be reached finds them in lexicographic order, each edge skipped once.
    A new search starts only when the sink's distance grows, at most ``n`` times, instead
    of once per stream.
    """
    source, sink = ends
    contribution = [0.0] * len(flow)
    outgoing: list[list[int]] = [[] for _ in range(n)]
    for e, amount in enumerate(flow):
        if amount > floor:
            outgoing[heads[e]].append(e)
    alive = [amount > floor for amount in flow]
    while True:
        # breadth first: each node's distance from the source (-1: not reached)
        level = [-1] * n
        level[source] = 0
        frontier = [source]
        while frontier and level[sink] < 0:
            following: list[int] = []
            for node in frontier:
                outgoing[node] = edges = [e for e in outgoing[node] if alive[e]]
                for e in edges:
                    if level[tails[e]] < 0:
                        level[tails[e]] = level[node] + 1
                        following.append(tails[e])
            frontier = following
        depth = level[sink]
        if depth < 0:
            return contribution
        # the edges one level up on the way to the sink, in index order
        step = [
            [
                e
                for e in outgoing[node]
                if level[tails[e]] == level[node] + 1
                and (tails[e] == sink or level[tails[e]] < depth)
            ]
            if 0 <= level[node] < depth
            else []
            for node in range(n)
        ]
        pointer = [0] * n
        path: list[int] = []
        node = source
        while True:
            edges = step[node]
            i, end = pointer[node], len(edges)
            while i < end:
                e = edges[i]
                if alive[e] and level[tails[e]] >= 0:
                    break
                i += 1
            pointer[node] = i
            if i == end:  # the sink is out of reach from here: drop the node
                if node == source:
                    break
                level[node] = -2
                node = heads[path.pop()]
                continue
            path.append(e)
            node = tails[e]
            if node != sink:
                continue
            phi = min([flow[e] for e in path])
            share = phi / len(path)
            cut = -1
            for k, e in enumerate(path):
                contribution[e] += share
                left = flow[e] - phi
                flow[e] = left
                if left <= floor:
                    alive[e] = False
                    if cut < 0:
                        cut = k
            # the search resumes at the first edge the stream used up
            node = heads[path[cut]]
            del path[cut:]


def contribution_matrix(hat: HatMatrix, *, tolerance: float = 1e-12) -> ContributionMatrix:
    """The contribution matrix of Papakonstantinou et al. (2018, "shortest path"
    streams algorithm, as netmeta's ``netcontrib(method = "shortestpath")``).

    For the row of ``a - b``: edge ``e`` carries flow ``|h_e|`` from ``treat1[e]`` to
    ``treat2[e]`` (the other way when ``h_e < 0``).  Repeatedly take a shortest path from
    ``a`` to ``b`` among the edges with flow, let ``phi`` be the least flow on it, add
    ``phi / length`` to the contribution of each of its edges and take ``phi`` off them,
    until no path is left; among shortest paths the first in the order of the columns
    (:func:`_streams`).  The streams carry the whole unit of flow, so each row sums to
    100%.  Flows at most ``tolerance`` times the row's largest (at least 1) are rounding
    and dropped.  A graph algorithm, one row at a time, in plain Python lists: per row
    a breadth-first search each time the shortest length grows and one depth-first
    pass per length (Dinic's layered search), not a search per stream.
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
