"""Synthesis: the planned analyses of every outcome of a review, and their stored results.

The stretch of the road after extraction and risk of bias: the protocol's
policy, subgroups, meta-regressions, sensitivity analyses and small-study
tests run on each outcome's reconciled data (:mod:`.results` holds what they
give, the contract that reports and the summary of findings read).
"""
