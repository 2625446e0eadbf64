"""srma.review: the review road, one subpackage per stretch.

* :mod:`srma.review.protocol`, :mod:`srma.review.project`: the protocol
  (``review.toml``) and the project folder with its database;
* :mod:`srma.review.decision_log`: the append-only log and its replay;
* :mod:`srma.review.identify`: export formats, import, deduplication;
* :mod:`srma.review.screen`: decisions, conflicts, agreement, the screening
  queue and active learning;
* :mod:`srma.review.appraise`: risk of bias;
* :mod:`srma.review.flow`: status, PRISMA 2020 counts, export.

The flat modules of srma 0.1 (``srma.review.records``, ``screening``,
``progress``, ``active_learning``...) are thin re-exports kept for one release.
"""
