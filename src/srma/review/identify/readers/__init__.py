"""One reader per export format: RIS, MEDLINE, Web of Science, BibTeX, CSV/TSV and XLSX.

Each reader turns decoded text (or, for XLSX, the workbook's bytes) into
:class:`~srma.review.identify.results.Record` values and
:class:`~srma.review.identify.results.ImportProblem` values, one problem per
record that was read but could not be stored, each at the line where its
record starts.  :func:`srma.review.identify.records.read_records` decodes the
file, picks the reader and checks its count against the format's own record
delimiters (:mod:`srma.review.identify.counting`).
"""
