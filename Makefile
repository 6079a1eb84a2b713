# `make quickstart` builds opsml (with its web UI) into .venv and runs a real experiment.
# `make test` runs every check: Rust format, lints and tests (on an S3-compatible server and
# a PostgreSQL it starts), Python lints, stub check and the pytest suite, and the web UI's
# lint, type check, unit tests and end-to-end tests in Chromium.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: quickstart install ui test rust-check rust-test python-check python-test python-versions ui-check ui-test s3-server bench compare clean

# The web UI (crates/opsml-server/ui), built into ui/dist, which the server embeds: built
# before any Rust build so that every binary serves it.
UI := crates/opsml-server/ui
UI_SOURCES := $(shell find $(UI)/src -type f) $(UI)/index.html $(UI)/vite.config.ts $(UI)/svelte.config.js

$(UI)/node_modules/.package-lock.json: $(UI)/package-lock.json
	cd $(UI) && npm ci --no-audit --no-fund --loglevel=error

$(UI)/dist/index.html: $(UI)/node_modules/.package-lock.json $(UI_SOURCES)
	cd $(UI) && npm run build --silent

ui: $(UI)/dist/index.html

$(VENV)/.tools: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# A module built per Python version by an older checkout would be imported before the
# stable-ABI one: it goes first.
install: $(VENV)/.tools ui
	rm -f python/opsml/_opsml.cpython-*.so
	$(VENV)/bin/maturin develop --release --features fault-injection --quiet

quickstart: install
	$(PY) examples/quickstart.py
	@echo "See the runs in your browser: $(VENV)/bin/opsml ui"

# The last check: the command line builds without its server too.
rust-check: ui
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	cargo check --locked -p opsml-cli --no-default-features
	# The server links no HTTP client of its own (see ARCHITECTURE.md).
	! cargo tree --locked -p opsml-server -e normal --prefix none | grep -q '^opsml-client '

# Real services on loopback, started (or reused) by the scripts: SeaweedFS for the S3 storage
# tests and PostgreSQL, on which the store tests run a second time. OPSML_REQUIRE_SERVICES=1
# makes a test that cannot reach its service fail instead of skipping.
rust-test: $(VENV)/.tools ui
	eval "$$(OPSML_S3_VENV=$(VENV) scripts/start-s3.sh)" && \
	OPSML_REQUIRE_SERVICES=1 OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	cargo test --locked
	OPSML_TEST_STORE=postgres OPSML_REQUIRE_SERVICES=1 \
	OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	cargo test --locked -p opsml-store --test cards --test points --test remote_writers
	OPSML_TEST_STORE=postgres OPSML_REQUIRE_SERVICES=1 \
	OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	cargo test --locked -p opsml-registry --test cards

# The S3-compatible server alone; its settings are printed and kept in /tmp/opsml-s3/env:
#   make s3-server && . /tmp/opsml-s3/env && cargo test -p opsml-storage --test s3_storage
s3-server: $(VENV)/.tools
	OPSML_S3_VENV=$(VENV) scripts/start-s3.sh

python-check: install
	$(VENV)/bin/ruff check python tests benches examples
	$(VENV)/bin/ruff format --check python tests benches examples
	$(VENV)/bin/mypy python/opsml
	$(PY) -m mypy.stubtest opsml._opsml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# The suite runs on the default SQLite store, again on PostgreSQL, and a third time through a
# real `opsml server` (started by the suite) on PostgreSQL and the S3-compatible server.
python-test: install
	$(PY) -m pytest tests
	OPSML_TEST_STORE=postgres OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	$(PY) -m pytest tests
	eval "$$(OPSML_S3_VENV=$(VENV) scripts/start-s3.sh)" && \
	OPSML_TEST_STORE=server OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	$(PY) -m pytest tests

# The UI's linter, type check and unit tests of its data transforms.
ui-check: ui
	cd $(UI) && npm run --silent lint && npm run --silent check && npm run --silent test

# The UI in Chromium (Debian's package, installed by scripts/chromium.sh) against a real
# `opsml ui` on SQLite and a real `opsml server` on PostgreSQL. Screenshots go to
# $(UI)/screenshots.
ui-test: install
	OPSML_CHROMIUM="$$(scripts/chromium.sh)" OPSML_TEST_POSTGRES_URI="$$(scripts/start-postgres.sh)" \
	sh -c 'cd $(UI) && npm run --silent e2e'

# The wheel (one for CPython 3.10 and later) installed into fresh environments of 3.10, 3.12
# and 3.13: the quickstart and a smoke part of the suite in each (scripts/python-versions.sh).
python-versions: install
	rm -rf target/wheels-check
	$(VENV)/bin/maturin build --release --quiet -o target/wheels-check
	scripts/python-versions.sh target/wheels-check/opsml_tracker-*.whl

test: rust-check rust-test python-check python-test python-versions ui-check ui-test

bench: install
	$(PY) benches/log_metrics.py
	$(PY) benches/artifacts.py
	$(PY) benches/hardware.py

# opsml against opsml 3, MLflow, W&B and trackio, each in its own virtual
# environment (about 15 minutes; results in benches/results/<date>).
compare: install
	$(PY) benches/compare.py

clean:
	rm -rf $(VENV) target
