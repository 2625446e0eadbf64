"""Multilevel and multivariate meta-analysis: the numerics of metafor's ``rma.mv``.

``y = X beta + sum_t u_t + e`` with ``e ~ N(0, V)`` (V known) and random terms
:class:`RandomTerm` (``~ 1 | g`` intercepts; ``~ inner | outer`` with the
structures CS, HCS, UN, AR, HAR, ID, DIAG), fitted by REML or ML
(:func:`fit_multilevel`), with profile likelihoods and intervals for a variance
parameter (:func:`profile_loglik`, :func:`profile_interval`).  References:
Viechtbauer 2010 (J Stat Softw 36(3)); Konstantopoulos 2011 (Res Synth
Methods 2:61-76); Berkey et al. 1998 (Stat Med 17:2537-2550).
"""

from srma.stats.multilevel.fit import MultilevelFit, fit_multilevel
from srma.stats.multilevel.likelihood import MultilevelProblem, build_problem
from srma.stats.multilevel.profile import profile_interval, profile_loglik
from srma.stats.multilevel.terms import STRUCTS, RandomTerm

__all__ = [
    "STRUCTS",
    "MultilevelFit",
    "MultilevelProblem",
    "RandomTerm",
    "build_problem",
    "fit_multilevel",
    "profile_interval",
    "profile_loglik",
]
