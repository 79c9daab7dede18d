"""Command line.

- ``python -m synthlab demo [--n 200] [--seed 0] [--runs-dir runs]`` runs the capstone workflow
  (:mod:`synthlab.workflows.capstone`, taught in ``notebooks/40_capstone.ipynb``), replaying that notebook's
  recorded model calls (``SYNTHLAB_REPLAY=off`` runs it cold).
- ``python -m synthlab record [NOTEBOOK ...]`` re-makes the recordings of the given notebooks (all by default)
  cold on the embedded model (:mod:`synthlab.workflows.recorder`).
- ``python -m synthlab fetch all`` (or dataset names) downloads, checks and caches the real datasets, and fetches
  again any cached file that is damaged (:mod:`synthlab.core.data`).
- ``python -m synthlab effects [--check]`` writes ``docs/reproduction.md`` from the effects the notebooks recorded
  (:mod:`synthlab.workflows.effects`); ``--check`` only says whether the page is up to date (exit status 1 if not).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="synthlab", description="Synthetic data workflows on an embedded LLM.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="the capstone: generate with 3 strategies, curate with 3 pipelines, "
        "evaluate on real data, write a run folder",
    )
    demo.add_argument("--n", type=int, default=200, help="rows per strategy that pass hygiene (balanced over labels)")
    demo.add_argument("--seed", type=int, default=0, help="base seed; row k uses seed + k")
    demo.add_argument("--runs-dir", default="runs", help="where the run folder is written")
    record = commands.add_parser("record", help="re-make notebooks' recordings cold on the embedded model")
    record.add_argument("notebooks", nargs="*", help="notebook paths or names (default: every notebook)")
    record.add_argument(
        "--outputs-only",
        action="store_true",
        help="replay the recordings strictly and only save the checked cells' outputs",
    )
    record.add_argument(
        "--executed-dir",
        default="runs/recorded",
        help="where each run's whole notebook, every output included, is written (to write the text from)",
    )
    fetch = commands.add_parser("fetch", help="download, check and cache the real datasets; repair damaged files")
    fetch.add_argument("names", nargs="+", help="dataset names, or all")
    effects = commands.add_parser("effects", help="write docs/reproduction.md from the notebooks' recorded effects")
    effects.add_argument("--check", action="store_true", help="only check that the page is up to date")
    effects.add_argument("--page", type=Path, default=REPRODUCTION_PAGE, help="the page to write or check")
    args = parser.parse_args(argv)
    if args.command == "effects":
        return _effects(args.page, check=args.check)
    if args.command == "fetch":
        from synthlab.core.data import main as data_main

        return data_main(["fetch", *args.names])
    if args.command == "record":
        return _record(args.notebooks, outputs_only=args.outputs_only, executed_dir=Path(args.executed_dir))

    from synthlab.llm.recording import active_recording, recorded_cache, recording_summary, use_recording
    from synthlab.workflows.capstone import run_capstone
    from synthlab.workflows.report import demo_summary

    started = time.perf_counter()
    before = active_recording()
    use_recording(DEMO_RECORDING)  # the demo's calls are a subset of notebook 40's
    try:
        print(recording_summary(DEMO_RECORDING))
        result = run_capstone(n=args.n, seed=args.seed, runs_dir=args.runs_dir)
        print("\n" + demo_summary(result, recorded_cache(DEMO_RECORDING), time.perf_counter() - started))
    finally:
        use_recording(before)
    return 0


DEMO_RECORDING = "40_capstone"
REPRODUCTION_PAGE = Path(__file__).resolve().parents[1] / "docs" / "reproduction.md"


def _effects(page: Path, *, check: bool) -> int:
    from synthlab.workflows.effects import reproduction_page

    text = reproduction_page()
    if check:
        current = page.read_text() if page.exists() else ""
        if current != text:
            print(f"{page} is out of date: run python -m synthlab effects", file=sys.stderr)
            return 1
        print(f"{page} is up to date")
        return 0
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
    print(f"wrote {page}")
    return 0


def _record(names: list[str], *, outputs_only: bool, executed_dir: Path) -> int:
    from nbclient.exceptions import CellExecutionError

    from synthlab.workflows.recorder import notebooks_dir, record_notebook

    folder = notebooks_dir()
    paths = [_notebook_path(folder, name) for name in names] or sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    total, failed = 0.0, []
    for path in paths:
        try:
            made = record_notebook(path, outputs_only=outputs_only, executed_dir=executed_dir)
        except CellExecutionError as error:  # the others still get recorded; this one keeps its old recording
            failed.append(path.name)
            print(f"{path.name}: FAILED, its recording and notebook are unchanged\n{str(error)[-1500:]}", flush=True)
            continue
        total += made.seconds
        how = "replayed" if outputs_only else "cold"
        size = f"{made.size_bytes / 1024:.0f} KiB"
        print(f"{path.name}: {made.calls} calls, {size}, {made.seconds:.0f} s {how}", flush=True)
    print(f"{len(paths) - len(failed)} notebook(s) in {total / 60:.1f} min" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


def _notebook_path(folder: Path, name: str) -> Path:
    path = Path(name)
    if path.suffix == ".ipynb":
        return path
    return folder / f"{name}.ipynb"


if __name__ == "__main__":
    sys.exit(main())
