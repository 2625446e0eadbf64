"""The block-diagonal layout of the marginal covariance ``M = V + sum_t G_t``.

Two observations are in one block when a chain of shared groups links them:
the same code of any term's ``outer`` factor, or a non-zero ``V_ij``.  ``M`` is
then block-diagonal over these connected groups, and every computation runs
on padded stacks ``(batch, n_blocks, m_max, m_max)`` with a validity mask:
padding cells hold ``M = I``, ``y = 0``, ``X = 0`` and so add nothing to a
log-determinant, a residual or a cross-product.  An observation masked out of
one fit of the batch is padding in that fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from srma.stats.multilevel.terms import FloatArray, IntArray, RandomTerm

BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class BlockLayout:
    """Where each observation sits in the padded block stack.

    ``index[c, i]`` is the observation in row ``i`` of block ``c`` (``-1`` for
    padding); ``block`` and ``position`` (k,) invert it.  For each term,
    ``same_outer[t]`` (n_blocks, m, m) marks pairs sharing the outer code and
    ``pair_index[t]`` is ``inner_i n_inner + inner_j`` (a flat index into ``S``).
    """

    index: IntArray
    valid: BoolArray
    block: IntArray
    position: IntArray
    same_outer: tuple[BoolArray, ...]
    pair_index: tuple[IntArray, ...]

    @property
    def n_blocks(self) -> int:
        return self.index.shape[0]

    @property
    def m_max(self) -> int:
        return self.index.shape[1]

    @property
    def k(self) -> int:
        return self.block.shape[0]


def _group_edges(codes: IntArray) -> tuple[IntArray, IntArray]:
    """Edges joining each observation to the first one with the same code."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    return np.arange(codes.shape[0]), first[inverse.ravel()]


def build_layout(covariance_pattern: BoolArray, terms: Sequence[RandomTerm]) -> BlockLayout:
    """The layout for a (k, k) pattern of non-zero ``V`` entries and the random terms."""
    k = covariance_pattern.shape[0]
    rows, cols = np.nonzero(covariance_pattern)
    edges = [(rows, cols)] + [_group_edges(np.asarray(term.outer)) for term in terms]
    start = np.concatenate([e[0] for e in edges])
    end = np.concatenate([e[1] for e in edges])
    graph = coo_matrix((np.ones(start.shape[0]), (start, end)), shape=(k, k))
    n_blocks, block = connected_components(graph, directed=False)
    block = block.astype(np.int64)
    order = np.argsort(block, kind="stable")
    sizes = np.bincount(block, minlength=n_blocks)
    first_of_block = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    position = np.empty(k, dtype=np.int64)
    position[order] = np.arange(k) - first_of_block[block[order]]
    m_max = int(sizes.max())
    index = np.full((n_blocks, m_max), -1, dtype=np.int64)
    index[block, position] = np.arange(k)
    valid = index >= 0
    safe = np.where(valid, index, 0)
    pair_valid = valid[:, :, None] & valid[:, None, :]
    same_outer = []
    pair_index = []
    for term in terms:
        outer = np.asarray(term.outer)[safe]
        same_outer.append(pair_valid & (outer[:, :, None] == outer[:, None, :]))
        if term.kind == "struct":
            inner = np.asarray(term.inner)[safe]
            pair_index.append(inner[:, :, None] * term.n_inner + inner[:, None, :])
        else:
            pair_index.append(np.zeros(pair_valid.shape, dtype=np.int64))
    return BlockLayout(index, valid, block, position, tuple(same_outer), tuple(pair_index))


def pack_vector(layout: BlockLayout, values: FloatArray) -> FloatArray:
    """(B, k) -> (B, n_blocks, m_max), padding 0."""
    safe = np.where(layout.valid, layout.index, 0)
    return np.where(layout.valid, values[:, safe], 0.0)


def pack_rows(layout: BlockLayout, values: FloatArray) -> FloatArray:
    """(B, k, p) -> (B, n_blocks, m_max, p), padding rows 0."""
    safe = np.where(layout.valid, layout.index, 0)
    return np.where(layout.valid[None, :, :, None], values[:, safe], 0.0)


def pack_matrix(layout: BlockLayout, values: FloatArray) -> FloatArray:
    """(B, k, k) -> (B, n_blocks, m_max, m_max), padding ``I``."""
    safe = np.where(layout.valid, layout.index, 0)
    pair_valid = layout.valid[:, :, None] & layout.valid[:, None, :]
    packed = values[:, safe[:, :, None], safe[:, None, :]]
    return np.where(pair_valid, packed, np.eye(layout.m_max))


def unpack_matrix(layout: BlockLayout, blocks: FloatArray) -> FloatArray:
    """(n_blocks, m_max, m_max) -> the dense (k, k) matrix."""
    dense = np.zeros((layout.k, layout.k))
    rows = layout.index[:, :, None]
    cols = layout.index[:, None, :]
    pair_valid = layout.valid[:, :, None] & layout.valid[:, None, :]
    rows_b, cols_b = np.broadcast_arrays(rows, cols)
    dense[rows_b[pair_valid], cols_b[pair_valid]] = blocks[pair_valid]
    return dense
