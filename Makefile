# refineloc-mm: the two commands (see README).
# Exact pins: constraints.txt (the package itself declares ranges).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# openmim in its own folder (tests/integration/test_packaging.py): its dependencies
# conflict with torch's (requirements-mim.txt)
MIM_DIR := $(VENV)/openmim
DATA := data/synthetic
# the base model of `make demo` (MODEL=refineloc|wtalc|basnet|delu: a folder
# of configs/) and its synthetic refinement config, the one
# configs/$(MODEL)/*refineloc*_synthetic.py; the schedule is the config's
# (RefineLoc: 4 rounds of 10 epochs) unless DEMO_ROUNDS / DEMO_EPOCHS are given
MODEL ?= refineloc
MODELS = $(patsubst configs/%/,%,$(dir $(wildcard configs/*/*refineloc*_synthetic.py)))
DEMO_CONFIG = $(or $(wildcard configs/$(MODEL)/*refineloc*_synthetic.py),\
	$(error MODEL must be one of $(MODELS) (got "$(MODEL)")))
DEMO_DIR ?= work_dirs/demo$(if $(filter-out refineloc,$(MODEL)),-$(MODEL))
DEMO_ROUNDS ?=
DEMO_EPOCHS ?=
SCHEDULE = $(if $(DEMO_ROUNDS),--rounds $(DEMO_ROUNDS)) \
	$(if $(DEMO_EPOCHS),--epochs-per-round $(DEMO_EPOCHS))

.PHONY: venv demo test test-unit test-integration lint clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-mim.txt \
		constraints.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	rm -rf $(MIM_DIR)
	$(PY) -m pip install --quiet --no-deps --target $(MIM_DIR) \
		-r requirements-mim.txt
	touch $(STAMP)

$(DATA)/synthetic_test_groundtruth.csv: | $(STAMP)
	$(PY) tools/data/generate_synthetic.py --out-dir $(DATA)

# Train the refinement rounds of MODEL's synthetic config (THUMOS14
# settings) on the synthetic set, test the best round, draw the timelines of 3
# training videos with the best round's model
# ($(DEMO_DIR)/timelines/train/*.png), print the per-round table and plot it
# ($(DEMO_DIR)/refinement_curves.png).
demo: $(STAMP) $(DATA)/synthetic_test_groundtruth.csv
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR) $(SCHEDULE)
	$(PY) tools/test.py $(DEMO_CONFIG) \
		$$($(PY) tools/analyze_refinement.py $(DEMO_DIR) --best-checkpoint) \
		--work-dir $(DEMO_DIR)/test --dump $(DEMO_DIR)/results.json
	$(PY) tools/visualize.py $(DEMO_CONFIG) \
		$$($(PY) tools/analyze_refinement.py $(DEMO_DIR) --best-checkpoint) \
		--work-dir $(DEMO_DIR) --videos 3
	$(PY) tools/analyze_refinement.py $(DEMO_DIR) \
		--out $(DEMO_DIR)/refinement_curves.png

# everything (what .ci/run calls): ruff, then both tiers of tests/
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q tests

# the fast tier: in-process tests, tests/unit/ (mirrors the package)
test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

# the slow tier, tests/integration/: the tools as subprocesses, refinement
# runs through tools/train.py, 2-process runs, packaging, quick start, mim
test-integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(DEMO_DIR)
