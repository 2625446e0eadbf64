"""Run a simulation study: blocks grouped into tasks, on this process, a process pool or Dask.

A task is a list of (scenario, block) pairs; :func:`simulate_task` generates
and fits each block on its own (its own seed, its own batch call) and returns
each block's Parquet bytes, which the caller writes.  Because a block's
numbers depend on nothing but the study and the pair, the results are
bitwise the same for any ``blocks_per_task``, number of workers and
scheduler; grouping only trades scheduler overhead against load balance.

Schedulers: ``None`` runs here (``workers > 1``: a
:class:`concurrent.futures.ProcessPoolExecutor`); ``"local"`` starts a Dask
``distributed.LocalCluster`` of ``workers`` single-threaded processes; any
other string is the address of a running Dask scheduler (``tcp://host:8786``).
Dask is optional (``pip install 'srma[distributed]'``).  Block files are
written by the caller as tasks complete, so workers need no shared file
system, and an interrupted study resumes where it stopped.  Every process that fits
blocks (this one, the pool's, the Dask workers) keeps freed memory for the next fit
(:mod:`srma.scale.allocator`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from srma.errors import InputError
from srma.scale.allocator import keep_freed_memory
from srma.scale.fit import fit_block
from srma.scale.generate import generate_block
from srma.scale.store import ResultStore, block_table_bytes
from srma.scale.study import Study

Task = list[tuple[int, int]]
T = TypeVar("T")
R = TypeVar("R")

#: The environment of the workers of a ``"local"`` Dask cluster: Dask's defaults without
#: ``MALLOC_TRIM_THRESHOLD_`` (see :func:`_dask`); give a remote cluster's workers the same.
WORKER_ENVIRONMENT = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}
Done = list[tuple[int, int, bytes]]


def simulate_block(study: Study, scenario: int, block: int) -> bytes:
    """Generate and fit one block; its Parquet file as bytes."""
    chosen = study.scenarios[scenario]
    data = generate_block(study, chosen, block)
    fits = fit_block(data, chosen, study.methods, study.level)
    return block_table_bytes(scenario, block, block * study.block, fits)


def simulate_task(study: Study, task: Task) -> Done:
    """Every block of a task, each fitted on its own."""
    return [(s, b, simulate_block(study, s, b)) for s, b in task]


def group_blocks(pending: list[tuple[int, int]], blocks_per_task: int) -> list[Task]:
    """Consecutive pending blocks, ``blocks_per_task`` to a task."""
    if blocks_per_task < 1:
        raise InputError(f"blocks per task must be >= 1, got {blocks_per_task}")
    return [pending[i : i + blocks_per_task] for i in range(0, len(pending), blocks_per_task)]


@dataclass(frozen=True)
class RunReport:
    """What a run did: blocks computed now, blocks found done, tasks, bytes sent back."""

    output: Path
    computed: int
    skipped: int
    tasks: int
    bytes_returned: int
    scheduler: str
    workers: int


def map_tasks(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: str | None = None,
    workers: int = 1,
) -> Iterator[R]:
    """``function(item)`` for every item, as each completes: here (``workers > 1``: a process
    pool), on a Dask ``LocalCluster`` (``scheduler="local"``) or on the Dask scheduler at an
    address. ``function`` and the items must pickle (a module's function, a
    :func:`functools.partial` of one)."""
    if scheduler is None:
        yield from _here(function, items, workers)
    else:
        yield from _dask(function, items, scheduler, workers)


def _here(function: Callable[[T], R], items: Sequence[T], workers: int) -> Iterator[R]:
    if workers <= 1:
        keep_freed_memory()
        for item in items:
            yield function(item)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, initializer=keep_freed_memory) as pool:
        futures = [pool.submit(function, item) for item in items]
        for future in as_completed(futures):
            yield future.result()


def local_cluster(workers: int):
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes.

    Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` in their workers by default, which
    makes glibc hand every freed block of the engine's ``(batch, k)`` arrays back to the
    system and doubles the time of a fit; these workers get :data:`WORKER_ENVIRONMENT`.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRONMENT}):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def _dask(function: Callable[[T], R], items: Sequence[T], scheduler: str, workers: int
          ) -> Iterator[R]:  # fmt: skip
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(
            f"--scheduler {scheduler} needs Dask: pip install 'srma[distributed]' "
            "(without a scheduler the study runs here, with the same numbers)"
        ) from None
    cluster = None
    if scheduler == "local":
        cluster = local_cluster(workers)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        client.run(keep_freed_memory)  # on every worker there now (one joining later: defaults)
        futures = client.map(function, list(items), pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_study(
    study: Study,
    output: str | Path,
    *,
    scheduler: str | None = None,
    workers: int = 1,
    blocks_per_task: int = 1,
    on_block: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Compute the blocks of ``study`` whose files are missing in ``output``.

    ``on_block(done, total)`` is called after each block file is written.
    """
    if workers < 1:
        raise InputError(f"workers must be >= 1, got {workers}")
    store = ResultStore(output, study)
    pending = store.missing()
    total = len(study.scenarios) * study.blocks
    tasks = group_blocks(pending, blocks_per_task)
    results = map_tasks(partial(simulate_task, study), tasks, scheduler=scheduler, workers=workers)
    done, sent = total - len(pending), 0
    for finished in results:
        for scenario, block, payload in finished:
            store.write(scenario, block, payload)
            done, sent = done + 1, sent + len(payload)
            if on_block is not None:
                on_block(done, total)
    return RunReport(
        output=Path(output),
        computed=len(pending),
        skipped=total - len(pending),
        tasks=len(tasks),
        bytes_returned=sent,
        scheduler=scheduler or "none",
        workers=workers,
    )
