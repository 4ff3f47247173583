# Casualty Tracker. `make run` starts the app, `make test` runs every test.
# Both create the virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Local development only: debug on, a throwaway key.
DEV_ENV := DJANGO_DEBUG=1
# Tests and checks run with production settings and a throwaway key.
TEST_ENV := DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-tests-only-not-a-secret} DJANGO_DEBUG=0

.PHONY: run test lint format serve bench bench-import bench-revision loadtest clean venv messages compilemessages vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

venv: $(VENV)/.dev-installed

run: $(VENV)/.runtime-installed
	$(DEV_ENV) $(MANAGE) migrate --noinput
	$(DEV_ENV) $(MANAGE) load_demo --demo-users
	@echo
	@echo "  Casualty Tracker is starting: open http://127.0.0.1:8000/"
	@echo "  Admin: http://127.0.0.1:8000/admin/ (demo logins are printed above)"
	@echo "  Stop it with Ctrl-C."
	@echo
	$(DEV_ENV) $(MANAGE) runserver 127.0.0.1:8000

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(TEST_ENV) $(MANAGE) makemigrations --check --dry-run
	$(TEST_ENV) $(MANAGE) check
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Translations (README, "Languages"); both need GNU gettext (Debian package gettext).
# `make messages` adds new and changed strings of the code and templates to locale/ar/.../django.po;
# translate them there, then `make compilemessages` writes the django.mo that is committed with it.
MESSAGES_OPTIONS := --no-obsolete --add-location file --ignore 'tests/*' --ignore 'benchmarks/*' --ignore 'staticfiles/*'

messages: $(VENV)/.dev-installed
	$(DEV_ENV) $(MANAGE) makemessages --locale ar $(MESSAGES_OPTIONS)

compilemessages: $(VENV)/.dev-installed
	$(DEV_ENV) $(MANAGE) compilemessages --locale ar --ignore '.venv'

# Production-like serving: debug off, gunicorn, static files collected and served by whitenoise.
# Needs DJANGO_SECRET_KEY. Over plain HTTP on 127.0.0.1 set DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0.
serve: $(VENV)/.runtime-installed
	@test -n "$$DJANGO_SECRET_KEY" || { echo "make serve needs DJANGO_SECRET_KEY (see .env.example)"; exit 2; }
	DJANGO_DEBUG=0 $(MANAGE) collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=0 $(MANAGE) migrate --noinput
	DJANGO_DEBUG=0 $(BIN)/gunicorn casualty_tracker.wsgi:application \
		--bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-$$(( $$(nproc) * 2 + 1 ))} \
		--access-logfile - --timeout 60

# 100,000 synthetic incidents (built once), gunicorn, timed HTTP requests. DATABASE_URL for PostgreSQL.
bench: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/run.py

# import_ucdp of 300,000 synthetic GED rows on SQLite and (with DATABASE_URL) PostgreSQL: time, memory,
# and 3,000 rows against a bare SQLite executemany of the same rows.
bench-import: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/imports.py

# What one revision costs the servers: each page of the load test's mix rendered after it, in one process.
bench-revision: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/revision_cost.py

# 200 concurrent readers against gunicorn + Redis on 127.0.0.1 while figures are revised; fails on errors or stale figures (needs wrk, Redis).
loadtest: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/loadtest.py

# Leaflet and Leaflet.markercluster for the maps (README, "Map"): the exact versions of package.json
# and package-lock.json from the npm registry, then only the files the pages load (scripts, styles,
# their images and source maps) and each licence, copied into static/vendor/. The copies are
# committed: make run, make test and CI never need npm. Needs Node.js and npm.
LEAFLET := node_modules/leaflet
CLUSTER := node_modules/leaflet.markercluster

vendor:
	npm ci --ignore-scripts --no-audit --no-fund
	rm -rf static/vendor/leaflet static/vendor/leaflet.markercluster
	mkdir -p static/vendor/leaflet/images static/vendor/leaflet.markercluster
	cp $(LEAFLET)/dist/leaflet.js $(LEAFLET)/dist/leaflet.js.map $(LEAFLET)/dist/leaflet.css \
		$(LEAFLET)/LICENSE $(LEAFLET)/package.json static/vendor/leaflet/
	cp $(LEAFLET)/dist/images/*.png static/vendor/leaflet/images/
	cp $(CLUSTER)/dist/leaflet.markercluster.js $(CLUSTER)/dist/leaflet.markercluster.js.map \
		$(CLUSTER)/dist/MarkerCluster.css $(CLUSTER)/dist/MarkerCluster.Default.css \
		$(CLUSTER)/package.json static/vendor/leaflet.markercluster/
	cp $(CLUSTER)/MIT-LICENCE.txt static/vendor/leaflet.markercluster/LICENSE
	@echo "Vendored: leaflet $$(node -p 'require("./$(LEAFLET)/package.json").version'),"\
		"leaflet.markercluster $$(node -p 'require("./$(CLUSTER)/package.json").version'). Commit static/vendor/."

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
