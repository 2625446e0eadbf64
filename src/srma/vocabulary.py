"""The one list of srma's measures, methods, tests and interval types, with display names.

Layer 0: imports nothing from srma.  Every other module that needs to know
which measures are ratios, which methods estimate tau², which tests or
prediction-interval types exist, or how to name them for a reader, imports
them from here, so that the lists cannot drift apart.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

# --- effect measures ---------------------------------------------------------------

#: Effect measures that :func:`srma.effect_sizes` computes, with what each is
#: (metafor's ``escalc`` names).
MEASURES: Final = MappingProxyType(
    {
        "MD": "mean difference",
        "SMD": "standardised mean difference (Hedges' g)",
        "ROM": "log ratio of means",
        "RR": "log risk ratio",
        "OR": "log odds ratio",
        "RD": "risk difference",
        "PETO": "Peto's log odds ratio",
        "COR": "correlation coefficient",
        "ZCOR": "Fisher's z-transformed correlation",
        "GEN": "generic estimate with its variance, standard error, CI or p-value",
        "SMDH": "standardised mean difference with unequal variances (Bonett)",
        "MC": "raw mean change (pre-post or matched pairs)",
        "SMCC": "standardised mean change, change-score standardisation",
        "SMCR": "standardised mean change, raw-score standardisation",
        "ROMC": "log ratio of means, pre-post or matched pairs",
        "VR": "log variability ratio (lnVR)",
        "CVR": "log coefficient of variation ratio (lnCVR)",
        "LNCVR": "log coefficient of variation ratio: another name of CVR",
        "NMD": "normalised mean difference, % of the lesion deficit recovered (CAMARADES)",
        "PR": "raw proportion",
        "PLN": "log proportion",
        "PLO": "logit proportion",
        "PAS": "arcsine square-root proportion",
        "PFT": "Freeman-Tukey double arcsine proportion",
        "IR": "incidence rate",
        "IRLN": "log incidence rate",
        "IRS": "square-root incidence rate",
        "IRR": "log incidence rate ratio",
        "IRD": "incidence rate difference",
        "PHI": "phi coefficient",
        "YUQ": "Yule's Q",
        "YUY": "Yule's Y",
        "OR2DN": "log odds ratio as a standardised mean difference (normal scores)",
        "OR2DL": "log odds ratio as a standardised mean difference (logistic scores)",
        "RPB": "point-biserial correlation",
        "AUC": "area under the ROC curve, reported, with the group sizes (Newcombe 2006 variance)",
        "AUCN": "binormal area under the ROC curve from two groups' means and SDs",
    }
)

#: Every measure a result may carry (those computed and those given as yi/vi,
#: such as hazard ratios), as a reader sees it named.
MEASURE_NAMES: Final = MappingProxyType(
    {
        "MD": "Mean difference",
        "SMD": "Std. mean difference",
        "RR": "Risk ratio",
        "OR": "Odds ratio",
        "RD": "Risk difference",
        "PETO": "Peto odds ratio",
        "ROM": "Ratio of means",
        "HR": "Hazard ratio",
        "IRR": "Incidence rate ratio",
        "COR": "Correlation",
        "ZCOR": "Fisher's z",
        "GEN": "Effect",
        "SMDH": "Std. mean difference (unequal variances)",
        "MC": "Mean change",
        "SMCC": "Std. mean change (change-score SD)",
        "SMCR": "Std. mean change (raw-score SD)",
        "ROMC": "Ratio of means (paired)",
        "VR": "Variability ratio",
        "CVR": "CV ratio",
        "LNCVR": "CV ratio",
        "NMD": "Normalised mean difference (%)",
        "PR": "Proportion",
        "PLN": "Log proportion",
        "PLO": "Logit proportion",
        "PAS": "Arcsine proportion",
        "PFT": "Double arcsine proportion",
        "IR": "Incidence rate",
        "IRLN": "Log incidence rate",
        "IRS": "Square-root incidence rate",
        "IRD": "Incidence rate difference",
        "PHI": "Phi coefficient",
        "YUQ": "Yule's Q",
        "YUY": "Yule's Y",
        "OR2DN": "Std. mean difference (from OR, normal)",
        "OR2DL": "Std. mean difference (from OR, logistic)",
        "RPB": "Point-biserial correlation",
        "AUC": "Area under the ROC curve",
        "AUCN": "Area under the ROC curve (binormal)",
    }
)

#: Measures analysed on the log scale and reported back-transformed.
RATIO_MEASURES: Final = frozenset(
    {"RR", "OR", "ROM", "PETO", "HR", "IRR", "ROMC", "VR", "CVR", "LNCVR"}
)

#: Measures analysed on a transformed scale (not a ratio) and reported back on the
#: scale of a proportion or a rate, with the inverse transformation applied
#: (:meth:`srma.analysis.results.MetaResult.back_transformed`).
BACK_TRANSFORMATIONS: Final = MappingProxyType(
    {
        "PLO": ("proportion", "inverse logit, 1 / (1 + exp(-y))"),
        "PLN": ("proportion", "exp(y)"),
        "PAS": ("proportion", "sin(y)²"),
        "PFT": ("proportion", "Miller (1978) inverse with the harmonic mean of n"),
        "IRLN": ("incidence rate", "exp(y)"),
        "IRS": ("incidence rate", "y²"),
    }
)

#: Two-group incidence-rate measures (events and person-time per group), which
#: Mantel-Haenszel also pools.
RATE_MEASURES: Final = frozenset({"IRR", "IRD"})

#: Measures computed from 2x2 tables (per-arm events and totals).
BINARY_MEASURES: Final = frozenset({"RR", "OR", "RD", "PETO"})

#: Where a continuity correction is added (metafor's ``to=``).
CONTINUITY_TARGETS: Final = ("only0", "all", "if0all", "none")

# --- pooling methods ---------------------------------------------------------------

#: Estimators of tau², with what they are (one family for p = 1 and p >= 1,
#: :mod:`srma.stats.tau2`).
TAU2_METHODS: Final = MappingProxyType(
    {
        "DL": "DerSimonian-Laird (1986) method of moments",
        "HE": "Hedges (1983) unweighted method of moments",
        "HS": "Hunter-Schmidt (2004)",
        "SJ": "Sidik-Jonkman (2005)",
        "ML": "maximum likelihood",
        "REML": "restricted maximum likelihood",
        "PM": "Paule-Mandel (1982)",
        "EB": "empirical Bayes (Morris 1983), whose solution equals Paule-Mandel's",
        "PMM": "median-unbiased Paule-Mandel (Viechtbauer 2021)",
    }
)

#: Methods pooled from 2x2 tables rather than from yi and vi.
COUNT_METHODS: Final = frozenset({"MH", "PETO"})

#: Every pooling method, as a reader sees it named.
METHOD_NAMES: Final = MappingProxyType(
    {
        "EE": "common effect (inverse variance)",
        "DL": "random effects, DerSimonian-Laird tau²",
        "HE": "random effects, Hedges tau²",
        "HS": "random effects, Hunter-Schmidt tau²",
        "SJ": "random effects, Sidik-Jonkman tau²",
        "ML": "random effects, maximum-likelihood tau²",
        "REML": "random effects, restricted maximum-likelihood tau²",
        "PM": "random effects, Paule-Mandel tau²",
        "EB": "random effects, empirical Bayes tau²",
        "PMM": "random effects, median-unbiased Paule-Mandel tau²",
        "MH": "common effect (Mantel-Haenszel)",
        "PETO": "common effect (Peto)",
        "GENQ": "random effects, generalised Q tau² at user weights (DerSimonian-Kacker 2007)",
    }
)

#: Methods that need user weights (``meta(weights=)``): the generalised Q estimator of
#: tau² (DerSimonian & Kacker 2007), metafor's ``method = "GENQ"``.  Not in
#: :data:`TAU2_METHODS`, whose estimators need only the effects and their variances.
USER_WEIGHT_METHODS: Final = frozenset({"GENQ"})

#: Other spellings accepted for a method (metafor's ``FE`` and ``CE``).
METHOD_ALIASES: Final = MappingProxyType({"FE": "EE", "CE": "EE"})

#: Methods of a common-effect model (tau² = 0), aliases included.
COMMON_EFFECT_METHODS: Final = frozenset({"EE", "FE", "CE", *COUNT_METHODS})

#: Methods pooled by inverse variance from yi and vi (what a meta-regression fits).
INVERSE_VARIANCE_METHODS: Final = ("EE", *TAU2_METHODS)

# --- tests and intervals -----------------------------------------------------------

#: Tests of the pooled effect and of meta-regression coefficients.
TEST_NAMES: Final = MappingProxyType(
    {
        "z": "z test",
        "t": "t test",
        "knha": "Hartung-Knapp-Sidik-Jonkman t test",
        "adhoc": "Hartung-Knapp-Sidik-Jonkman t test with the ad hoc variance correction",
    }
)
TESTS: Final = tuple(TEST_NAMES)

#: Tests whose variance is scaled by the Knapp-Hartung factor.
KNAPP_HARTUNG_TESTS: Final = frozenset({"knha", "adhoc"})

#: Critical values of the prediction interval (metafor's ``predict(pi.type=)``).
PI_TYPE_NAMES: Final = MappingProxyType(
    {
        "riley": "t with k - p - 1 df (Riley et al. 2011)",
        "default": "normal under the z test, t with k - p df otherwise (metafor's default)",
        "t": "t with k - p df",
    }
)
PI_TYPES: Final = tuple(PI_TYPE_NAMES)

#: The kinds of interval a result carries.
INTERVAL_TYPES: Final = MappingProxyType(
    {
        "ci": "confidence interval of the pooled effect (Wald, z or t)",
        "pi": "prediction interval of the effect in a new study",
        "tau2_ci": "Q-profile confidence interval of tau² (Viechtbauer 2007)",
    }
)


def canonical_method(method: str) -> str:
    """The method's canonical code: upper case, aliases resolved (``"fe"`` -> ``"EE"``)."""
    upper = method.upper()
    return METHOD_ALIASES.get(upper, upper)


# --- small-study effects -----------------------------------------------------------

#: Forms of Egger's regression test: classic weighted least squares, or mixed effects.
EGGER_MODELS: Final = ("lm", "rma")

#: What a regression test for funnel asymmetry regresses the effects on (metafor's
#: ``regtest(predictor=)``).
BIAS_PREDICTORS: Final = ("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")

#: Estimators of the number of missing studies in trim-and-fill (Duval & Tweedie 2000).
TRIMFILL_ESTIMATORS: Final = ("L0", "R0")

#: The side of the funnel plot on which studies are missing.
TRIMFILL_SIDES: Final = ("left", "right")

#: Fail-safe N methods (metafor's ``fsn(type=)``, and Fisher's method of Becker 2005).
FAIL_SAFE_TYPES: Final = ("Rosenthal", "Orwin", "Rosenberg", "Fisher")

# --- analysis policies --------------------------------------------------------------

#: Names of the shipped analysis policies (:data:`srma.analysis.policies.POLICIES` defines
#: them); a protocol names one without loading the analyses.
POLICY_NAMES: Final = ("huang2024", "hassanein2024", "modern")
