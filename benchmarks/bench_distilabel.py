"""distilabel's ``TextGeneration`` task with its ``LlamaCppLLM`` on the embedded model: the peer that
``bench_generation.py`` runs in ``.bench-venv`` (distilabel is not a synthlab dependency).

Reads ``{"model_path", "prompts", "settings"}`` as JSON on stdin; prints one JSON line with the
output tokens, the texts, the seconds spent generating and the seconds of startup (imports and
model load). The task is used standalone (``load()`` then ``process()``), as distilabel documents.
"""

from __future__ import annotations

import json
import os
import sys
import time

started = time.perf_counter()
from distilabel.models.llms import LlamaCppLLM  # noqa: E402 - imported after the clock starts: load time counts
from distilabel.steps.tasks import TextGeneration  # noqa: E402


def main() -> None:
    job = json.loads(sys.stdin.read())
    settings = job["settings"]
    llm = LlamaCppLLM(
        model_path=job["model_path"],
        n_ctx=2048,
        seed=0,
        extra_kwargs={"n_threads": os.cpu_count()},
        generation_kwargs={
            "max_new_tokens": settings["max_tokens"],
            "temperature": settings["temperature"],
            "top_p": settings["top_p"],
        },
    )
    task = TextGeneration(llm=llm)
    task.load()
    loaded = time.perf_counter()
    rows = next(task.process([{"instruction": prompt} for prompt in job["prompts"]]))
    done = time.perf_counter()
    tokens = sum(row["distilabel_metadata"][f"statistics_{task.name}"]["output_tokens"] for row in rows)
    print(
        json.dumps(
            {
                "tokens": tokens,
                "texts": [row["generation"] for row in rows],
                "seconds": done - loaded,
                "startup_seconds": loaded - started,
            }
        )
    )


if __name__ == "__main__":
    main()
