"""srma: systematic reviews and meta-analyses, from search export to report."""

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
from srma.analysis.effect_sizes import effect_sizes
from srma.analysis.meta import MetaBatchResult, meta, meta_batch
from srma.analysis.metareg import MetaRegressionResult, meta_regression
from srma.analysis.policies import POLICIES, PolicyResult, apply_policy
from srma.analysis.results import MetaResult
from srma.analysis.subgroups import SubgroupResult, subgroup_analysis
from srma.errors import InputError, SrmaWarning
from srma.stats import conversions

__version__ = "0.1.0"

__all__ = [
    "POLICIES",
    "InputError",
    "MetaBatchResult",
    "MetaRegressionResult",
    "MetaResult",
    "PolicyResult",
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
    "meta",
    "meta_batch",
    "meta_regression",
    "peters_test",
    "rank_test",
    "small_study_tests",
    "subgroup_analysis",
    "trim_and_fill",
]
