"""Synthesis: the planned analyses of every outcome of a review, and their stored results.

The stretch of the road after extraction and risk of bias: the protocol's
policy, subgroups, meta-regressions, sensitivity analyses and small-study
tests run on each outcome's reconciled data (docs/synthesis.md):

* :mod:`.results`: what they give, the contract that reports and the summary
  of findings read;
* :mod:`.plan`: the protocol's plan for one outcome;
* :mod:`.analyze`: one outcome's analyses on its export, every follow-up with
  its reason or why it was not run;
* :mod:`.project`: every outcome of a project from one replay of the log, and
  the data version of each;
* :mod:`.stored`: the results stored per run, current or stale;
* :mod:`.overrides`: reviewers' GRADE overrides as events.
"""
