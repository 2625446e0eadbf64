"""Simulation studies of meta-analysis methods, on this machine or on Dask (layer 4).

A study (``study.toml``, :mod:`srma.scale.study`) is a grid of scenarios, a
list of methods, repetitions in blocks of a fixed size and one seed.  Each
(scenario, block) gets its own seed from one :class:`numpy.random.SeedSequence`
spawn tree (:mod:`srma.scale.generate`), is fitted by srma's batch engine
(:mod:`srma.scale.fit`) and written as one Parquet file
(:mod:`srma.scale.store`), so results are bitwise the same for any grouping of
blocks into tasks, number of workers and scheduler (:mod:`srma.scale.run`),
and an interrupted study resumes.  :mod:`srma.scale.performance` computes the
performance measures of Morris et al. (2019) with their Monte Carlo standard
errors; :mod:`srma.scale.plots` draws them.  Imports only :mod:`srma.stats`
(and :mod:`srma.vocabulary`, :mod:`srma.errors`); Dask and pyarrow are optional.
"""

from srma.scale.performance import MEASURES, performance, summary_table
from srma.scale.run import RunReport, run_study
from srma.scale.store import ResultStore
from srma.scale.study import Method, Scenario, Study, load_study, parse_study

__all__ = [
    "MEASURES",
    "Method",
    "ResultStore",
    "RunReport",
    "Scenario",
    "Study",
    "load_study",
    "parse_study",
    "performance",
    "run_study",
    "summary_table",
]
