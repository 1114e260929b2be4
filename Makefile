# papercast: `make demo` builds and publishes the sample week; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
COQUI := .venv-coqui
BIN := $(VENV)/bin
SAMPLE := episodes/2024-05-10-xlstm-deepseek-v2

.PHONY: demo test test-ray test-coqui lint bench bench-ray clean

# The stamp files make re-runs instant and re-install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@echo "Installing papercast and its dependencies into $(VENV)/ (the first time takes a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	@echo "Building the sample week $(SAMPLE) (the first build speaks all of it), then publishing it into public/"
	$(BIN)/podcast build $(SAMPLE)
	$(BIN)/podcast publish

test: $(VENV)/.installed-dev
	$(BIN)/pytest -q

# Builds on a Ray cluster started on 127.0.0.1: a few minutes, so apart from `make test` (CI runs both).
test-ray: $(VENV)/.installed-dev
	$(BIN)/pytest -q -m ray tests/audio/test_ray_executor.py

# The coqui engine needs torch and Coqui TTS (8.3 GB): a venv of its own keeps `make test` light.
$(COQUI)/.installed: pyproject.toml
	$(PYTHON) -m venv $(COQUI)
	$(COQUI)/bin/pip install --quiet --upgrade pip
	$(COQUI)/bin/pip install --quiet -e '.[dev,coqui]'
	touch $@

test-coqui: $(COQUI)/.installed
	$(COQUI)/bin/pytest -q -m coqui tests/tts/test_coqui.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check podcast tests bench tools
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/render_bench.py

# The sample week cold with the local executor and with Ray (a head started on 127.0.0.1), and the
# per-line costs that size a cluster.
bench-ray: $(VENV)/.installed-dev
	$(BIN)/python bench/ray_bench.py

# The LLM stage one request at a time and [summarizer] concurrency at a time, against a fake server
# on 127.0.0.1 that answers in 2 s: about 2 minutes.
bench-llm: $(VENV)/.installed-dev
	$(BIN)/python bench/llm_bench.py

clean:
	rm -rf public .cache episodes/*/build
