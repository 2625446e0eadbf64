"""srma: systematic reviews and meta-analyses, from search export to report.

The names below are loaded on first use (PEP 562), so that ``import srma`` and
the command line start without importing numpy, scipy or pandas until an
analysis needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from srma.errors import InputError, SrmaWarning

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_LAZY = {
    "SmallStudyResult": "srma.analysis.bias",
    "egger_test": "srma.analysis.bias",
    "fail_safe_n": "srma.analysis.bias",
    "funnel_contours": "srma.analysis.bias",
    "harbord_test": "srma.analysis.bias",
    "peters_test": "srma.analysis.bias",
    "rank_test": "srma.analysis.bias",
    "small_study_tests": "srma.analysis.bias",
    "trim_and_fill": "srma.analysis.bias",
    "vcalc": "srma.analysis.covariance",
    "effect_sizes": "srma.analysis.effect_sizes",
    "MetaBatchResult": "srma.analysis.meta",
    "meta": "srma.analysis.meta",
    "meta_batch": "srma.analysis.meta",
    "MetaRegressionResult": "srma.analysis.metareg",
    "MultilevelResult": "srma.analysis.multilevel",
    "likelihood_ratio_test": "srma.analysis.multilevel",
    "meta_mv": "srma.analysis.multilevel",
    "meta_regression": "srma.analysis.metareg",
    "NetworkResult": "srma.analysis.network",
    "network_meta": "srma.analysis.network",
    "POLICIES": "srma.analysis.policies",
    "PolicyResult": "srma.analysis.policies",
    "apply_policy": "srma.analysis.policies",
    "MetaResult": "srma.analysis.results",
    "RobustResult": "srma.analysis.robust",
    "robust": "srma.analysis.robust",
    "SubgroupResult": "srma.analysis.subgroups",
    "subgroup_analysis": "srma.analysis.subgroups",
}
_LAZY_MODULES = {"conversions": "srma.stats.conversions"}

if TYPE_CHECKING:
    from srma.analysis.bias import (
        SmallStudyResult,
        egger_test,
        fail_safe_n,
        funnel_contours,
        harbord_test,
        peters_test,
        rank_test,
        small_study_tests,
        trim_and_fill,
    )
    from srma.analysis.covariance import vcalc
    from srma.analysis.effect_sizes import effect_sizes
    from srma.analysis.meta import MetaBatchResult, meta, meta_batch
    from srma.analysis.metareg import MetaRegressionResult, meta_regression
    from srma.analysis.multilevel import MultilevelResult, likelihood_ratio_test, meta_mv
    from srma.analysis.network import NetworkResult, network_meta
    from srma.analysis.policies import POLICIES, PolicyResult, apply_policy
    from srma.analysis.results import MetaResult
    from srma.analysis.robust import RobustResult, robust
    from srma.analysis.subgroups import SubgroupResult, subgroup_analysis
    from srma.stats import conversions


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _LAZY_MODULES:
        value = importlib.import_module(_LAZY_MODULES[name])
    else:
        raise AttributeError(f"module 'srma' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "POLICIES",
    "InputError",
    "MetaBatchResult",
    "MetaRegressionResult",
    "MetaResult",
    "MultilevelResult",
    "NetworkResult",
    "PolicyResult",
    "RobustResult",
    "SmallStudyResult",
    "SrmaWarning",
    "SubgroupResult",
    "__version__",
    "apply_policy",
    "conversions",
    "effect_sizes",
    "egger_test",
    "fail_safe_n",
    "funnel_contours",
    "harbord_test",
    "likelihood_ratio_test",
    "meta",
    "meta_batch",
    "meta_mv",
    "meta_regression",
    "network_meta",
    "peters_test",
    "rank_test",
    "robust",
    "small_study_tests",
    "subgroup_analysis",
    "trim_and_fill",
    "vcalc",
]
