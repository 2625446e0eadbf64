"""Appraisal: risk-of-bias tools, their domains and judgements."""
