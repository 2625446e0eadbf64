"""Methods text generated from the settings an analysis actually used, with references."""

from __future__ import annotations

from srma import __version__
from srma.analysis.bias import SmallStudyResult
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
    "ML": (
        "maximum likelihood",
        "Hardy RJ, Thompson SG (1996). A likelihood approach to meta-analysis with random "
        "effects. Stat Med 15:619-629.",
    ),
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
        "Viechtbauer W (2021). Median-unbiased estimators for the amount of heterogeneity in "
        "meta-analysis. European Congress of Methodology, Valencia. See also Paule RC, Mandel J "
        "(1982). J Res Natl Bur Stand 87:377-385.",
    ),
    "GENQ": (
        "the generalised Q estimator at the given weights",
        "DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis of clinical "
        "trials: an update. Contemp Clin Trials 28:105-114.",
    ),
}
REFERENCES = {
    "knha": "Hartung J, Knapp G (2001). On tests of the overall treatment effect in "
    "meta-analysis with normally distributed responses. Stat Med 20:1771-1782.",
    "sidik": "Sidik K, Jonkman JN (2002). A simple confidence interval for meta-analysis. "
    "Stat Med 21:3153-3159.",
    "adhoc": "Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression "
    "with a single covariate. Stat Med 22:2693-2710.",
    "q": "Cochran WG (1954). The combination of estimates from different experiments. "
    "Biometrics 10:101-129.",
    "riley": "Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects "
    "meta-analyses. BMJ 342:d549.",
    "ivw": "Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2010). A basic introduction to "
    "fixed-effect and random-effects models for meta-analysis. Res Synth Methods 1:97-111.",
    "egger": "Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis "
    "detected by a simple, graphical test. BMJ 315:629-634.",
    "begg": "Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test "
    "for publication bias. Biometrics 50:1088-1101.",
    "trimfill": "Duval S, Tweedie R (2000). Trim and fill: a simple funnel-plot-based method of "
    "testing and adjusting for publication bias in meta-analysis. Biometrics 56:455-463.",
    "contours": "Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008). Contour-enhanced "
    "meta-analysis funnel plots help distinguish publication bias from other causes of "
    "asymmetry. J Clin Epidemiol 61:991-996.",
    "sterne": "Sterne JAC, Sutton AJ, Ioannidis JPA, et al. (2011). Recommendations for "
    "examining and interpreting funnel plot asymmetry in meta-analyses of randomised "
    "controlled trials. BMJ 343:d4002.",
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
    "srma": f"srma: systematic reviews and meta-analyses in Python, version {__version__}.",
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
        refs.append(REFERENCES["ivw"])
    else:
        name, reference = TAU2_TEXT[result.method]
        model = f"a random-effects model with the between-study variance estimated by {name}"
        refs.append(reference)
    if result.model_weights is not None:
        model += ", the studies weighted by the weights given rather than by inverse variance"
    studies = "1 study" if result.k == 1 else f"{result.k} studies"
    text = [f"We pooled {measure} from {studies} with {model}, using srma."]
    if result.test in ("knha", "adhoc"):
        extra = " with the ad hoc variance correction" if result.test == "adhoc" else ""
        text.append(
            f"Confidence intervals and tests used the Hartung-Knapp-Sidik-Jonkman "
            f"method{extra} (t distribution with k - 1 degrees of freedom)."
        )
        refs.extend([REFERENCES["knha"], REFERENCES["sidik"]])
        if result.test == "adhoc":
            refs.append(REFERENCES["adhoc"])
    elif result.test == "t":
        text.append("Tests and intervals used the t distribution with k - 1 degrees of freedom.")
    else:
        text.append(f"We report {percent}% confidence intervals based on the normal distribution.")
    text.append("Heterogeneity was assessed with Cochran's Q and quantified with I².")
    refs.extend([REFERENCES["q"], REFERENCES["i2"]])
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
        if result.pi_type == "riley":
            refs.append(REFERENCES["riley"])
    if result.is_ratio:
        text.append("Ratios were analysed on the log scale and are reported back-transformed.")
    return " ".join(text), list(dict.fromkeys(refs))


def bias_methods(tests: SmallStudyResult) -> tuple[str, list[str]]:
    """The methods sentence for the small-study-effect analyses that were run, and their refs."""
    text: list[str] = []
    refs: list[str] = []
    if tests.egger is not None:
        text.append("Egger's regression test")
        refs.append(REFERENCES["egger"])
    if tests.begg is not None:
        text.append("Begg and Mazumdar's rank correlation test")
        refs.append(REFERENCES["begg"])
    if tests.trimfill is not None:
        text.append(f"Duval and Tweedie's trim-and-fill method ({tests.trimfill.estimator})")
        refs.append(REFERENCES["trimfill"])
    if not text:
        return "", []
    listed = text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]
    refs.extend([REFERENCES["contours"], REFERENCES["sterne"]])
    sentence = (
        f"Small-study effects were examined in a contour-enhanced funnel plot and with {listed}."
    )
    if tests.low_power:
        sentence += " With fewer than 10 studies these tests have little power."
    return sentence, list(dict.fromkeys(refs))
