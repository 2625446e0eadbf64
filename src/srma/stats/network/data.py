"""The contrast-level data of a network of treatments, as every network computation reads it.

Each row is one contrast of one study: the effect ``y`` of ``treat1`` against
``treat2`` (``treat1 - treat2`` on the analysis scale, log scale for ratios) with
the sampling covariance ``V`` of all rows, block-diagonal by study (a study of
``a`` arms gives ``a - 1`` rows against one of its arms, correlated through that
arm: Salanti et al. 2008, Stat Methods Med Res 17:279).  The incidence matrix
``B`` (rows x treatments: +1 at ``treat1``, -1 at ``treat2``) is the edge-vertex
matrix of Rücker (2012, Res Synth Methods 3:312); a study's design is the set of
treatments it compares (Higgins et al. 2012, Res Synth Methods 3:98).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import FloatArray

IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ContrastData:
    """Contrasts of a network: ``y[i]`` is ``treat1[i]`` against ``treat2[i]`` in study
    ``study[i]``, with covariance ``V`` (rows in this order).

    ``treatments`` names the treatment indices ``0..T-1``; ``studies`` the study
    codes ``0..S-1``.  Nothing here validates: :mod:`srma.analysis.network` builds
    it from a table and names bad input.
    """

    treatments: tuple[str, ...]
    studies: tuple[str, ...]
    study: IntArray
    treat1: IntArray
    treat2: IntArray
    y: FloatArray
    V: FloatArray

    @property
    def n_treatments(self) -> int:
        return len(self.treatments)

    @property
    def n_contrasts(self) -> int:
        return int(self.y.shape[0])

    @cached_property
    def incidence(self) -> FloatArray:
        """``B``, contrasts x treatments: +1 at ``treat1``, -1 at ``treat2``."""
        rows = np.arange(self.n_contrasts)
        matrix = np.zeros((self.n_contrasts, self.n_treatments))
        matrix[rows, self.treat1] = 1.0
        matrix[rows, self.treat2] = -1.0
        return matrix

    @cached_property
    def study_arms(self) -> tuple[tuple[int, ...], ...]:
        """The treatments of each study (sorted indices), by study code."""
        arms: list[set[int]] = [set() for _ in self.studies]
        for s, a, b in zip(
            self.study.tolist(), self.treat1.tolist(), self.treat2.tolist(), strict=True
        ):
            arms[s].update((a, b))
        return tuple(tuple(sorted(found)) for found in arms)

    @cached_property
    def designs(self) -> tuple[tuple[int, ...], ...]:
        """The distinct designs (sets of treatments compared in one study), in order of
        first appearance among the studies."""
        return tuple(dict.fromkeys(self.study_arms))

    @cached_property
    def design(self) -> IntArray:
        """The design code of each contrast row (an index into :attr:`designs`)."""
        index = {design: code for code, design in enumerate(self.designs)}
        of_study = np.array([index[arms] for arms in self.study_arms], dtype=np.int64)
        return of_study[self.study]

    def design_name(self, code: int) -> str:
        """A design as netmeta writes it: ``A:B:C`` with the treatments' names."""
        return ":".join(self.treatments[t] for t in self.designs[code])

    def random_effects_structure(self) -> FloatArray:
        """The between-study covariance per unit tau² of the consistency model: 1 on the
        diagonal, 1/2 between two contrasts of one study (the common-heterogeneity
        assumption, Higgins & Whitehead 1996, Stat Med 15:2733)."""
        same = self.study[:, None] == self.study[None, :]
        return np.where(same, 0.5, 0.0) + 0.5 * np.eye(self.n_contrasts)
