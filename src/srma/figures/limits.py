"""How many rows a figure or a report table shows one by one (no imports: the CLI reads it
at start-up).

A forest plot of more studies is drawn condensed (:mod:`srma.figures.forest`); a report's
per-study table of more rows is written to a CSV file beside the report instead
(:mod:`srma.report.document`).
"""

#: Study rows a forest plot labels one by one, and rows a report's table shows.
MAX_ROWS = 300
#: Studies a forest plot of the whole-review report labels: a taller plot does not fit a
#: printed page (100 rows are already about 17 inches); more are drawn condensed, and each
#: study's numbers are given in a table instead (a CSV beside the report when it is long).
FOREST_ROWS = 100
