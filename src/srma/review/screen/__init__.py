"""Screening: blinded decisions, conflicts and resolution, agreement, and prioritisation by
active learning (features, models, ranking, metrics, simulation, stopping)."""
