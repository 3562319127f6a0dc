# Each target creates .venv when missing, so a fresh clone needs nothing else.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-oldest bench lint clean reliability

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bibliobot demo --out demo-out

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(ARGS)

# The reliability suite at full size, about 12 minutes (`make test` runs it short): crashes,
# a hostile audience, secrets and database faults, each printing a line of figures
# ("reliability ..."), beside the parsers' fuzzing at 10,000 examples (on the other core).
reliability: $(STAMP)
	@log=$$(mktemp); \
	BIBLIOBOT_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/test_fuzz_*.py >$$log 2>&1 & \
	fuzz=$$!; \
	BIBLIOBOT_RELIABILITY=full $(BIN)/python -m pytest -q -s \
		tests/test_crash_soak.py tests/test_reliability_*.py $(ARGS); ours=$$?; \
	wait $$fuzz; fuzzed=$$?; echo "--- the parsers' fuzzing, 10,000 examples each:"; \
	cat $$log; rm -f $$log; test $$ours -eq 0 && test $$fuzzed -eq 0

# The tests against the oldest versions pyproject.toml allows (oldest-versions.txt).
test-oldest:
	@test -x .venv-oldest/bin/python || $(PY) -m venv .venv-oldest || python3 -m venv .venv-oldest
	.venv-oldest/bin/pip install --quiet -c oldest-versions.txt -e '.[test]'
	.venv-oldest/bin/python -m pytest -q $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .venv-oldest demo-out bench/results.json
