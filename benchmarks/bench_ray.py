"""The Ray path's overhead on one machine: the same generation + filters + metrics with and without Ray.

    flock /tmp/synthlab-llm.lock .venv/bin/python benchmarks/bench_ray.py [--n 32] [--max-tokens 60]
        [--workers 1 2] [--batch-size 8]

Generation: ``--n`` attribute-conditioned review prompts (``synthlab.generation.tasks.review_prompts``) on the
embedded model, uncached (``cache=False``), first with ``synthlab.llm.generate.generate`` in this process, then
with ``synthlab.workflows.scale.generate_on_ray`` for each ``--workers`` count (each Ray actor loads its own model).
Then the hygiene + duplicate filters (``run_filters`` vs ``filter_on_ray``) and three corpus metrics per
label (``metrics_on_ray`` vs a pandas groupby). Prints one table: seconds per stage, the Ray / no-Ray
ratio, and whether the Ray rows equal the local rows (seeds, texts, errors). ``ray.init`` is timed apart.
Run it under the lock, so that no other model competes for the cores.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import pandas as pd

from synthlab.core.parsing import strip_chatter
from synthlab.core.steps import run_filters
from synthlab.curation.dedup import drop_near_duplicates
from synthlab.curation.filters import (
    drop_by_length,
    drop_exact_duplicates,
    drop_malformed,
    drop_refusals,
    drop_repetitive,
)
from synthlab.evaluation.diversity import distinct_n, self_bleu, vendi_score
from synthlab.generation.tasks import review_prompts
from synthlab.llm.generate import generate
from synthlab.workflows.ray_data import init_ray, to_dataset, to_records
from synthlab.workflows.scale import build_model, filter_on_ray, generate_on_ray, metrics_on_ray

STEPS = [
    drop_malformed,
    partial(drop_by_length, min_words=5),
    drop_refusals,
    drop_repetitive,
    drop_exact_duplicates,
    partial(drop_near_duplicates, threshold=0.5, progress=False),
]
METRICS = {"distinct-2": partial(distinct_n, n=2), "self-BLEU": self_bleu, "Vendi": vendi_score}
COMPARED = ["seed", "label", "text", "error"]


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def local_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            label: {name: metric(group["text"].tolist()) for name, metric in METRICS.items()}
            for label, group in frame.groupby("label")
        }
    ).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    spec = ("local", {"temperature": 0.9, "max_tokens": args.max_tokens, "cache": False})
    prompts, labels, conditions = review_prompts(args.n, attributes=True, seed=0)
    common = {
        "labels": labels,
        "conditions": conditions,
        "seed": 0,
        "parse": strip_chatter,
        "method": "reviews:attributes",
    }

    local, local_gen = timed(lambda: generate(build_model(spec), prompts, progress=False, **common))
    (kept, _), local_filter = timed(run_filters, local, STEPS)
    _, local_metric = timed(local_metrics, kept)
    _, init_seconds = timed(init_ray, num_cpus=2, log_to_driver=False)

    rows = [{"stage": "ray.init (once)", "no Ray (s)": 0.0, "Ray (s)": init_seconds}]
    for workers in args.workers:
        on_ray, ray_gen = timed(
            lambda workers=workers: to_records(
                generate_on_ray(spec, prompts, workers=workers, batch_size=args.batch_size, **common)
            )
        )
        same = on_ray[COMPARED].reset_index(drop=True).astype(object).equals(local[COMPARED].astype(object))
        rows.append(
            {
                "stage": f"generate ({workers} worker{'s' * (workers > 1)})",
                "no Ray (s)": local_gen,
                "Ray (s)": ray_gen,
                "same rows": same,
            }
        )
    (kept_ds, _), ray_filter = timed(filter_on_ray, to_dataset(on_ray, rows_per_block=args.batch_size), STEPS)
    _, ray_metric = timed(metrics_on_ray, kept_ds, METRICS, by="label")
    rows += [
        {"stage": "filter", "no Ray (s)": local_filter, "Ray (s)": ray_filter},
        {"stage": "metrics by label", "no Ray (s)": local_metric, "Ray (s)": ray_metric},
    ]
    table = pd.DataFrame(rows).set_index("stage")
    table["Ray / no Ray"] = table["Ray (s)"] / table["no Ray (s)"].where(table["no Ray (s)"] > 0)
    print(
        f"{args.n} prompts x 1 sample, max_tokens={args.max_tokens}, batch_size={args.batch_size}, "
        f"{len(local)} rows, {len(kept)} kept after filtering"
    )
    print(table.round(2).to_string())


if __name__ == "__main__":
    main()
