"""Identification: reading database exports, importing them into a project, deduplication."""
