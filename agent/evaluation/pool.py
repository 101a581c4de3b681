"""Running many episodes: a local process pool by default, or a Ray cluster.

Both backends call the same top-level function on each job (a picklable tuple) and return the results
sorted by ``(file, seed)``, so an evaluation's numbers do not depend on the backend or on which worker
finished first. The progress bar (rich, with an ETA) goes to standard error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console

Backend = Literal["process", "ray"]
BACKENDS: tuple[str, ...] = ("process", "ray")

Job = Any
Result = dict[str, Any]


def run_jobs(
    fn: Callable[[Job], Result],
    jobs: list[Job],
    workers: int = 1,
    backend: Backend = "process",
    address: str | None = None,
    console: Console | None = None,
    label: str = "episodes",
) -> list[Result]:
    """Run ``fn`` over ``jobs`` with ``workers`` processes (``process``) or Ray tasks (``ray``: a local Ray
    instance with ``workers`` CPUs, or the cluster at ``address``, e.g. ``ray://head:10001`` or ``auto``).
    The pool and the progress bar are imported here, not at the top: the command line imports :data:`BACKENDS`
    before it parses its arguments."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    results: list[Result] = []
    with Progress(*columns, TimeRemainingColumn(), console=console or Console(stderr=True)) as progress:
        task = progress.add_task(label, total=len(jobs))
        if backend == "ray":
            results = _ray(fn, jobs, workers, address, lambda: progress.advance(task))
        else:
            with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
                for future in as_completed([pool.submit(fn, job) for job in jobs]):
                    results.append(future.result())
                    progress.advance(task)
    return sorted(results, key=lambda r: (r.get("file", ""), r.get("seed", 0)))


def _ray(fn: Callable[[Job], Result], jobs: list[Job], workers: int, address: str | None, tick: Callable[[], None]):
    try:
        import ray
    except ImportError:  # pragma: no cover - ray is a dev dependency
        raise ValueError(
            "--backend ray: Ray is not installed; install it with: pip install 'groundsight[ray]'"
        ) from None
    started = not ray.is_initialized()
    if started:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=max(1, workers), **options)
    try:
        remote = ray.remote(num_cpus=1)(fn)
        pending = [remote.remote(job) for job in jobs]
        out: list[Result] = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            out.extend(ray.get(done))
            tick()
        return out
    finally:
        if started:
            ray.shutdown()
