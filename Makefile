# Two commands for a newcomer: `make run` and `make test`. Both do the whole set-up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: run test setup lint pytest translations extract-messages clean demo bench lighthouse stack faults

## make run: set up, migrate, load demo data on an empty database, serve on http://127.0.0.1:5000
## with one background worker beside the site; Ctrl-C stops both
run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask jobs worker & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000

## make test: set up, then lint and the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: setup lint pytest

setup: $(VENV)/.installed static/vendor/htmx.min.js translations

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,redis,s3]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

static/vendor/htmx.min.js: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -f -d artisan_market/translations 2>&1 | grep -v '^$$' || true
	@test -f artisan_market/translations/ar/LC_MESSAGES/messages.mo

## after changing user-facing strings: refresh the catalogue, then translate the new Arabic entries
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o artisan_market/translations/messages.pot .
	$(BIN)/pybabel update -i artisan_market/translations/messages.pot -d artisan_market/translations --no-fuzzy-matching --ignore-obsolete

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# `flask db check`: the migrations build exactly the models (an empty instance: the check
	@# runs on a scratch database; tests/test_database.py does the same on PostgreSQL)
	scratch=$$(mktemp -d) && export INSTANCE_PATH=$$scratch && unset DATABASE_URL && \
	  $(BIN)/flask db check; status=$$?; rm -rf $$scratch; exit $$status

pytest: $(VENV)/.installed
	$(BIN)/pytest

## make bench: the photo pipeline (12 MP phone JPEGs) and the shop window (100,000 products)
## against the budgets in docs/design.md; with TEST_DATABASE_URL set, the shop on PostgreSQL too;
## then the shop under load: gunicorn (2 sync workers) and wrk (apt-get install wrk)
bench: setup
	$(BIN)/python -m bench.photo_pipeline
	$(BIN)/python -m bench.catalog
	$(BIN)/python -m bench.orders
	$(BIN)/python -m bench.load

## make stack: what production runs on several hosts, on this one: nginx in front of two gunicorn
## instances, PostgreSQL, Redis, moto's S3 and two job workers; then locust for 60 s with 20 users,
## the report per step and the invariants (bench/README.md). `make stack STACK=up`: start and wait
STACK ?= load --seconds 60 --users 20
stack: setup
	$(BIN)/python -m bench.stack $(STACK)

## make faults: the same stack under locust (60 s, 10 users), one fault at a time injected at
## 15 s and put right at 35 s: kill -9 of an app instance, of a job worker mid-email, a
## PostgreSQL restart, Redis, SMTP and S3 stopped; "HELD:"/"BROKE:" lines with figures, the
## invariants, a summary (bench/README.md). `make faults FAULTS="app redis"`: some of them
FAULTS ?=
faults: setup
	$(BIN)/python -m bench.faults $(FAULTS)

## make lighthouse: Lighthouse (mobile) on home, catalogue, product and add-a-product, served by
## gunicorn from a scratch demo database, with Debian's chromium (apt-get install chromium)
lighthouse: setup
	$(BIN)/python -m bench.lighthouse

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache .ruff_cache
