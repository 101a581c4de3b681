# groundsight: `make demo` runs the default scenario, `make test` runs the test suite.
# Both create .venv and install on first use (CPU-only PyTorch, no model downloads, no GPU).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/groundsight run pick_place/red_block_in_blue_bowl --seed 0 --out runs/demo

test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true
	$(BIN)/python -m pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf runs .pytest_cache .ruff_cache *.egg-info

# `make vlm`: regenerate the training data and retrain groundsight's compact VLM into the package
# (perception/models/groundsight-vlm). CPU by default (CUDA if present); see README "Our own VLM" for the time.
VLM_DATA    ?= /tmp/groundsight-vlm-data
VLM_SCENES  ?= 1600
VLM_STEPS   ?= 3000
VLM_THREADS ?= 2

.PHONY: vlm
vlm: $(STAMP)
	$(BIN)/groundsight datagen --out $(VLM_DATA) --scenes $(VLM_SCENES) --test-fraction 0.04 --no-jitter \
	--contained 0.35 --workers 2
	$(BIN)/groundsight train-vlm --data $(VLM_DATA) --out perception/models/groundsight-vlm \
	--checkpoint-dir $(VLM_DATA)/checkpoint --steps $(VLM_STEPS) --batch-size 16 --lr 0.0015 --threads $(VLM_THREADS)
