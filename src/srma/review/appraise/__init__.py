"""Appraisal: risk-of-bias and quality tools, their algorithms, and agreement between assessors.

* :mod:`~srma.review.appraise.tools` and :mod:`~srma.review.appraise.signalling`:
  a tool as data (domains, signalling questions, conditions, judgement levels);
* one module per tool: :mod:`~srma.review.appraise.rob1`,
  :mod:`~srma.review.appraise.rob2` (with its algorithms),
  :mod:`~srma.review.appraise.robins_i`, :mod:`~srma.review.appraise.quadas2`,
  :mod:`~srma.review.appraise.syrcle`, :mod:`~srma.review.appraise.camarades`;
  :mod:`~srma.review.appraise.catalogue` finds one by name;
* :mod:`~srma.review.appraise.assessment`: one checked assessment, proposals
  beside the assessor's judgements, overrides with reasons;
* :mod:`~srma.review.appraise.agreement`: kappa per domain between two assessors;
* :mod:`~srma.review.appraise.risk_of_bias`: robvis-style judgement tables for figures.
"""
