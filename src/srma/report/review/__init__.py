"""The report of a whole review: protocol, methods written from what was done, PRISMA 2020,
study characteristics, risk of bias, every outcome with its follow-ups, the summary of
findings and what is missing, as HTML and DOCX (docs/report.md)."""

from srma.report.review.blocks import SofPart
from srma.report.review.document import summary_of_findings, write_review_report

__all__ = ["SofPart", "summary_of_findings", "write_review_report"]
