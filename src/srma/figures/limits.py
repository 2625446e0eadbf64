"""How many rows a figure or a report table shows one by one (no imports: the CLI reads it
at start-up).

A forest plot of more studies is drawn condensed (:mod:`srma.figures.forest`); a report's
per-study table of more rows is written to a CSV file beside the report instead
(:mod:`srma.report.document`).
"""

#: Study rows a forest plot labels one by one, and rows a report's table shows.
MAX_ROWS = 300
