"""Methods text generated from the settings an analysis actually used, with references."""

from __future__ import annotations

from srma.analysis.results import MetaResult

MEASURE_TEXT = {
    "MD": "mean differences",
    "SMD": "standardised mean differences (Hedges' g)",
    "ROM": "log ratios of means",
    "RR": "log risk ratios",
    "OR": "log odds ratios",
    "RD": "risk differences",
    "PETO": "Peto log odds ratios",
    "COR": "correlations",
    "ZCOR": "Fisher's z-transformed correlations",
}
TAU2_TEXT = {
    "DL": (
        "the DerSimonian-Laird estimator",
        "DerSimonian R, Laird N (1986). Meta-analysis "
        "in clinical trials. Control Clin Trials 7:177-188.",
    ),
    "REML": (
        "restricted maximum likelihood",
        "Viechtbauer W (2005). Bias and efficiency of "
        "meta-analytic variance estimators in the random-effects model. J Educ Behav Stat "
        "30:261-293.",
    ),
    "ML": ("maximum likelihood", "Viechtbauer W (2005). J Educ Behav Stat 30:261-293."),
    "PM": (
        "the Paule-Mandel estimator",
        "Paule RC, Mandel J (1982). Consensus values and "
        "weighting factors. J Res Natl Bur Stand 87:377-385.",
    ),
    "EB": (
        "the empirical Bayes estimator",
        "Morris CN (1983). Parametric empirical Bayes inference. J Am Stat Assoc 78:47-55.",
    ),
    "HE": (
        "the Hedges estimator",
        "Hedges LV (1983). A random effects model for effect sizes. Psychol Bull 93:388-395.",
    ),
    "HS": (
        "the Hunter-Schmidt estimator",
        "Hunter JE, Schmidt FL (2004). Methods of meta-analysis. 2nd ed. Sage.",
    ),
    "SJ": (
        "the Sidik-Jonkman estimator",
        "Sidik K, Jonkman JN (2005). Simple heterogeneity "
        "variance estimation for meta-analysis. J R Stat Soc C 54:367-384.",
    ),
    "PMM": (
        "the median-unbiased Paule-Mandel estimator",
        "Viechtbauer W (2021). metafor documentation.",
    ),
}
REFERENCES = {
    "knha": "Hartung J, Knapp G (2001). On tests of the overall treatment effect in "
    "meta-analysis with normally distributed responses. Stat Med 20:1771-1782.",
    "i2": "Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. "
    "Stat Med 21:1539-1558.",
    "qprofile": "Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in "
    "meta-analysis. Stat Med 26:37-52.",
    "pi": "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). A re-evaluation of random-effects "
    "meta-analysis. J R Stat Soc A 172:137-159.",
    "mh": "Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from "
    "retrospective studies of disease. J Natl Cancer Inst 22:719-748.",
    "peto": "Yusuf S, Peto R, Lewis J, et al. (1985). Beta blockade during and after myocardial "
    "infarction. Prog Cardiovasc Dis 27:335-371.",
    "srma": "srma: systematic reviews and meta-analyses in Python, version 0.1.0.",
}


def methods_paragraph(result: MetaResult) -> tuple[str, list[str]]:
    """A methods paragraph for ``result`` and the references it cites, in order."""
    refs: list[str] = [REFERENCES["srma"]]
    measure = MEASURE_TEXT.get(result.measure or "", "the reported effect sizes")
    percent = round(100 * result.level)
    if result.method == "MH":
        model = "a common-effect model with Mantel-Haenszel weights"
        refs.append(REFERENCES["mh"])
    elif result.method == "PETO":
        model = "Peto's one-step method"
        refs.append(REFERENCES["peto"])
    elif result.method == "EE":
        model = "a common-effect (inverse-variance) model"
    else:
        name, reference = TAU2_TEXT[result.method]
        model = f"a random-effects model with the between-study variance estimated by {name}"
        refs.append(reference)
    text = [f"We pooled {measure} from {result.k} studies with {model}, using srma."]
    if result.test in ("knha", "adhoc"):
        extra = " with the ad hoc variance correction" if result.test == "adhoc" else ""
        text.append(
            f"Confidence intervals and tests used the Hartung-Knapp-Sidik-Jonkman "
            f"method{extra} (t distribution with k - 1 degrees of freedom)."
        )
        refs.append(REFERENCES["knha"])
    elif result.test == "t":
        text.append("Tests and intervals used the t distribution with k - 1 degrees of freedom.")
    else:
        text.append(f"We report {percent}% confidence intervals based on the normal distribution.")
    text.append("Heterogeneity was assessed with Cochran's Q and quantified with I².")
    refs.append(REFERENCES["i2"])
    if result.tau2_ci_lower is not None:
        text.append("The confidence interval for tau² was obtained by the Q-profile method.")
        refs.append(REFERENCES["qprofile"])
    if result.pi_lower is not None:
        df = "k - 2" if result.pi_type == "riley" else "the method's"
        text.append(
            f"A {percent}% prediction interval (t distribution with {df} degrees of "
            "freedom) describes the range of true effects in comparable settings."
        )
        refs.append(REFERENCES["pi"])
    if result.is_ratio:
        text.append("Ratios were analysed on the log scale and are reported back-transformed.")
    return " ".join(text), list(dict.fromkeys(refs))
