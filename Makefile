# refineloc-mm: the two commands (see README).
# Exact pins: constraints.txt (the package itself declares ranges).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# openmim in its own folder (tests/test_packaging.py): its dependencies
# conflict with torch's (requirements-mim.txt)
MIM_DIR := $(VENV)/openmim
DATA := data/synthetic
DEMO_DIR ?= work_dirs/demo
DEMO_ROUNDS ?= 4
DEMO_EPOCHS ?= 10

.PHONY: venv demo test lint clean

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

# Train DEMO_ROUNDS refinement rounds with the THUMOS14 settings on the
# synthetic set, test the best round, draw the timelines of 3
# training videos with the best round's model
# ($(DEMO_DIR)/timelines/train/*.png), print the per-round table and plot it
# ($(DEMO_DIR)/refinement_curves.png).
demo: $(STAMP) $(DATA)/synthetic_test_groundtruth.csv
	$(PY) tools/train.py configs/refineloc_synthetic.py --work-dir $(DEMO_DIR) \
		--rounds $(DEMO_ROUNDS) --epochs-per-round $(DEMO_EPOCHS)
	$(PY) tools/test.py configs/refineloc_synthetic.py \
		$$($(PY) tools/analyze_refinement.py $(DEMO_DIR) --best-checkpoint) \
		--work-dir $(DEMO_DIR)/test --dump $(DEMO_DIR)/results.json
	$(PY) tools/visualize.py configs/refineloc_synthetic.py \
		$$($(PY) tools/analyze_refinement.py $(DEMO_DIR) --best-checkpoint) \
		--work-dir $(DEMO_DIR) --videos 3
	$(PY) tools/analyze_refinement.py $(DEMO_DIR) \
		--out $(DEMO_DIR)/refinement_curves.png

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(PY) -m ruff check .

clean:
	rm -rf $(DEMO_DIR)
