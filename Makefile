# Acordo — the two front-door commands are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
PY        := $(VENV)/bin/python
RASA      := $(RASA_VENV)/bin/rasa
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TF_CPP_MIN_LOG_LEVEL := 2
# A placeholder action endpoint for offline Rasa commands (data validation, story tests);
# only those commands get it, so tests never inherit a token.
RASA_ENV := ACORDO_ACTION_ENDPOINT_URL=http://127.0.0.1:8000/actions/webhook ACORDO_ACTION_TOKEN=offline

.PHONY: help venv rasa-venv model axe messages run test check test-anytime test-deep lint typecheck rasa-validate rasa-stories nlu-heldout pytest bench nlu-eval compose-config clean

help:
	@echo "make run    - set everything up and start Rasa + the app on SQLite with the demo data"
	@echo "make test   - lint, type-check, validate dialogs, train if needed and run every test"
	@echo "make check  - the fast edit loop (under a minute): lint, type-check, the pure core tests and"
	@echo "              the SQLite service tests (no Rasa, PostgreSQL, Chromium or subprocess stack)"
	@echo "make test-anytime - the tests under faketime at ACORDO_TEST_INSTANT (default: a random instant)"
	@echo "make test-deep - the differential régua tests with 10,000 examples per database"
	@echo "make bench  - benchmarks (see bench/)"
	@echo "make nlu-eval - held-out and 5-fold cross-validation NLU report"
	@echo "make messages - extract the staff pages' strings and update their catalogs (pt_BR, en)"

$(VENV)/.installed: pyproject.toml
	@py=$$(scripts/find-python 3.11) || exit 1; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

$(RASA_VENV)/.installed: dialogs/requirements.txt
	@py=$$(scripts/find-python 3.10) || exit 1; \
	  [ -x $(RASA_VENV)/bin/python ] || $$py -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install -q --upgrade pip 'setuptools<70' wheel
	$(RASA_VENV)/bin/python -m pip install -q -r dialogs/requirements.txt
	@touch $@

venv: $(VENV)/.installed
rasa-venv: $(RASA_VENV)/.installed

model: venv rasa-venv
	$(PY) -m bot model ensure

run: model
	$(PY) -m bot dev

lint: venv
	$(VENV)/bin/ruff check bot tests bench
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy bot

rasa-validate: rasa-venv
	cd dialogs && $(RASA_ENV) ../$(RASA) data validate --fail-on-warnings --debug 2>&1 | grep -E "WARNING|ERROR|error" || true
	cd dialogs && $(RASA_ENV) ../$(RASA) data validate --fail-on-warnings > /dev/null

rasa-stories: model
	cd dialogs && $(RASA_ENV) ../$(RASA) test core --model models/acordo.tar.gz --stories tests/test_stories.yml \
	  --fail-on-prediction-errors --out results/core

# axe-core (npm, pinned) for the accessibility checks of the browser tests.
AXE_VERSION := 4.11.0
var/node/.axe-$(AXE_VERSION):
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm (.ci/run does)"; exit 1; }
	mkdir -p var/node
	npm install --prefix var/node --no-audit --no-fund --no-save --silent axe-core@$(AXE_VERSION)
	@touch $@
axe: var/node/.axe-$(AXE_VERSION)

pytest: model axe
	$(PY) -m pytest -q

test: lint typecheck compose-config rasa-validate rasa-stories nlu-heldout pytest

# The fast edit loop: no Rasa, no PostgreSQL, no Chromium, no subprocess stack; the
# hypothesis suites that read an example count from the environment run a few examples.
CHECK_TESTS := tests/negotiation tests/contact_rules tests/policies tests/understanding tests/rendering \
  tests/services tests/storage tests/test_test_imports.py tests/test_code_shape.py
check: lint typecheck
	ACORDO_PROPERTY_EXAMPLES=20 ACORDO_DRY_RUN_EXAMPLES=10 $(PY) -m pytest -q -p no:randomly \
	  -m "not e2e and not postgres" $(CHECK_TESTS)

# The whole pytest suite as if it ran at another instant (docs/testing.md).
test-anytime: model axe
	scripts/test-anytime

# The SQL régua planner against the reference planner, 10,000 generated cases per database
# (make test runs 500); prints the count of examples and what they planned.
test-deep: venv
	ACORDO_DIFF_EXAMPLES=10000 $(PY) -m pytest -q -s -p no:randomly tests/cadence/test_differential.py

nlu-eval: model
	$(PY) -m bot.devtools.nlu_eval

nlu-heldout: model
	$(PY) -m bot.devtools.nlu_eval --check --no-cv

bench: model
	$(PY) -m bench.turns
	$(PY) -m bench.channels
	$(PY) -m bench.portfolio
	$(PY) -m bench.dashboard
	$(PY) -m bench.fuzz
	$(PY) -m bench.portal
	$(PY) -m bench.email
	$(PY) -m bench.pix

# The staff pages' gettext catalogs (docs/staff-ui.md): extract the English source strings of
# bot/web/staff/*.html and bot/staff/*.py into the .pot, then merge them into each .po (new or
# changed strings arrive empty or fuzzy: translate them; tests/web/test_staff_i18n.py fails
# until every pt_BR entry is translated). The .po files are compiled in memory at start.
STAFF_LOCALE := bot/staff/locale
messages: venv
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project=acordo-staff \
	  --msgid-bugs-address="" -o $(STAFF_LOCALE)/messages.pot .
	$(VENV)/bin/pybabel update -i $(STAFF_LOCALE)/messages.pot -d $(STAFF_LOCALE) --no-fuzzy-matching \
	  --ignore-obsolete -w 100

compose-config:
	bash docker/check.sh

clean:
	rm -rf var dialogs/models dialogs/results .pytest_cache .mypy_cache .ruff_cache
