"""Data extraction: forms from the protocol, blinded extraction by two (or more) reviewers,
reconciliation, and export of analysable data (docs/extraction.md).

The road, one module per stretch:

* :mod:`~srma.review.extract.vocabulary` -- data types, field types, multi-arm rules;
* :mod:`~srma.review.extract.studies` -- studies (linked records), their labels and arms;
* :mod:`~srma.review.extract.forms` -- what a form holds: sheets, rows, fields;
* :mod:`~srma.review.extract.values` -- one value read and checked, and the checks of a row;
* :mod:`~srma.review.extract.assessment` -- every reviewer's values replayed from the log,
  submissions, resolutions and blinding (generic: risk of bias uses it too);
* :mod:`~srma.review.extract.workbook`, :mod:`~srma.review.extract.longform` -- XLSX
  forms and the long CSV form, written and read;
* :mod:`~srma.review.extract.importing` -- storing what was read, as events;
* :mod:`~srma.review.extract.compare`, :mod:`~srma.review.extract.resolve` -- discrepancies,
  agreement, resolutions;
* :mod:`~srma.review.extract.export` -- reconciled, converted data in srma's columns.
"""
