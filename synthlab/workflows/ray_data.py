"""Ray itself, for the scale-out of :mod:`synthlab.workflows.scale`: importing it (an optional extra), starting
a local instance or joining a cluster, and records frames as Ray datasets and back (``params`` travels as JSON).

>>> init_ray(num_cpus=2)                                               # doctest: +SKIP
>>> to_records(to_dataset(rows)).equals(rows)                          # doctest: +SKIP

Taught in ``notebooks/07_scale_out_with_ray.ipynb``.
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from synthlab.core.checks import check_at_least
from synthlab.core.records import from_columnar, normalise_records, to_columnar

__all__ = ["arrow_ready", "collect", "init_ray", "require_ray", "split_blocks", "to_dataset", "to_records"]

if TYPE_CHECKING:
    import ray.data


def require_ray() -> ModuleType:
    """Import and return ``ray`` (with Ray Data), or raise ``ImportError`` naming the extra to install."""
    try:
        import ray
        import ray.data  # Ray without its data extra has no ray.data
    except ImportError as error:
        raise ImportError(
            "synthlab.workflows.scale needs Ray Data, which is an optional extra: pip install 'synthlab[ray]' "
            f"(or pip install 'ray[data]'); the import failed with: {error}"
        ) from error
    return ray


def init_ray(address: str | None = None, *, num_cpus: int | None = None, **ray_init_args: Any) -> None:
    """Start Ray once: a local instance on this machine (``address=None``, ``num_cpus`` cores, no
    dashboard) or a connection to a running cluster (``"auto"`` on a cluster node, or
    ``"ray://head:10001"``). Extra arguments go to ``ray.init`` (for example
    ``runtime_env={"pip": ["synthlab[ray]"]}`` so cluster workers have synthlab). Does nothing
    when Ray is already initialised. Row order is preserved through every stage, so "keep the
    first" filters and per-row seeds line up with a run in one process."""
    ray = require_ray()
    if ray.is_initialized():
        return
    if address is not None:
        ray.init(address=address, **ray_init_args)
    else:
        ray_init_args.setdefault("include_dashboard", False)
        _start_local_ray(ray, num_cpus, ray_init_args)
    ray.data.DataContext.get_current().execution_options.preserve_order = True


def _start_local_ray(ray: ModuleType, num_cpus: int | None, ray_init_args: dict[str, Any], attempts: int = 3) -> None:
    """``ray.init`` on this machine, tried ``attempts`` times: on a busy machine the local node can miss
    Ray's fixed 30 s start deadline, and a second try usually makes it (the processes are warm)."""
    for attempt in range(1, attempts + 1):
        try:
            ray.init(num_cpus=num_cpus, **ray_init_args)
            return
        except Exception as error:  # Ray raises a bare Exception when its node misses the deadline
            if "timed out during startup" not in str(error):
                raise
            if attempt == attempts:
                raise RuntimeError(
                    f"the local Ray node missed Ray's fixed 30 s start deadline {attempts} times: the machine's "
                    "CPUs are busy. Run init_ray() again when fewer processes compete, or join a running "
                    "cluster with init_ray(address=...)"
                ) from error
            warnings.warn(
                f"the local Ray node missed Ray's 30 s start deadline (busy CPUs); trying again "
                f"({attempt + 1} of {attempts})",
                stacklevel=3,
            )


def split_blocks(frame: pd.DataFrame, rows_per_block: int) -> list[pd.DataFrame]:
    """``frame`` cut into consecutive blocks of ``rows_per_block`` rows (the last may be shorter)."""
    return [frame.iloc[start : start + rows_per_block] for start in range(0, len(frame), rows_per_block)]


def arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A records frame with ``params`` as JSON text, since Arrow needs one type per column; other frames as is."""
    return to_columnar(frame) if "params" in frame.columns else frame


def to_dataset(frame: pd.DataFrame, *, rows_per_block: int = 256) -> ray.data.Dataset:
    """A records frame (or any frame) as a Ray dataset of blocks of ``rows_per_block`` rows, with
    ``params`` as JSON text; :func:`to_records` turns it back into the same frame (new index)."""
    ray = require_ray()
    check_at_least(rows_per_block=(rows_per_block, 1))
    if frame.empty:
        raise ValueError("the frame is empty: there is nothing to put on Ray")
    return ray.data.from_pandas(split_blocks(arrow_ready(frame.reset_index(drop=True)), rows_per_block))


def to_records(dataset: ray.data.Dataset, *, order_by: str | None = "seed") -> pd.DataFrame:
    """Collect a Ray dataset into one pandas frame, ordered by ``order_by`` (``seed`` puts generated
    rows in the order of a local ``generate`` call; ``None`` keeps the dataset's order). On Ray,
    ``params`` travels as JSON text (Arrow needs one type per column); here it becomes dicts again,
    and Arrow-typed columns become the plain columns of :func:`synthlab.core.records.make_records`."""
    frame = collect(dataset, order_by)
    frame = frame.astype(object).where(frame.notna(), None)  # Arrow's nulls come back as pd.NA, NaN or None
    if "params" in frame.columns and frame["params"].map(lambda value: isinstance(value, str)).all():
        return from_columnar(frame)
    return normalise_records(frame) if {"seed", "round"} <= set(frame.columns) else frame


def collect(dataset: ray.data.Dataset, order_by: str | None) -> pd.DataFrame:
    """A dataset as one pandas frame, ordered by ``order_by`` (kept as it comes when None or absent)."""
    frame = dataset.to_pandas()
    if order_by is not None and order_by in frame.columns:
        frame = frame.sort_values(order_by, kind="stable")
    return frame.reset_index(drop=True)
