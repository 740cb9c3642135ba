# Guanxi: `make run` serves the demo, `make test` runs the suite (both set everything up).
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := .tools/bin/uv
PORT ?= 8000
PYTEST_ARGS ?=
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := .venv
# Installed packages are compiled to bytecode once, so that no process (a worker's first
# analytics refresh, each test worker) compiles them again at import.
export UV_COMPILE_BYTECODE := 1

.PHONY: run test test-db system-deps venv venv-dev lint messages bench-web bench-analytics bench-pymc clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

venv: $(UV)
	$(UV) sync --frozen --no-dev

venv-dev: $(UV)
	$(UV) sync --frozen

# Debian packages the tests need: Chromium for the browser tests, a CJK font so pages and
# quote PDFs render Chinese, Dovecot for the IMAP tests (a real server on loopback), the
# MariaDB client library to build mysqlclient. Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	for p in fonts-noto-cjk libmariadb-dev pkg-config gettext dovecot-imapd; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: venv
	@mkdir -p var
	GUANXI_DEV=1 .venv/bin/guanxi migrate
	GUANXI_DEV=1 .venv/bin/guanxi demo
	@echo "Guanxi: http://127.0.0.1:$(PORT)/  (sign in as admin, manager, sales1, sales2, service1, marketing1 or analyst1; password guanxi-demo)"
	GUANXI_DEV=1 .venv/bin/guanxi serve --port $(PORT)

test: system-deps venv-dev
	.venv/bin/pytest -n 2 $(PYTEST_ARGS)

# The same suite on the database named by DATABASE_URL (PostgreSQL or MariaDB).
test-db: system-deps venv-dev
	@test -n "$(DATABASE_URL)" || (echo "DATABASE_URL is not set" && exit 2)
	.venv/bin/pytest -n 2 $(PYTEST_ARGS)

lint: venv-dev
	.venv/bin/ruff check .

messages: venv-dev
	cd src/guanxi && ../../.venv/bin/django-admin makemessages -l zh_Hans --no-obsolete \
	  --ignore 'static/*' --ignore 'analytics/engine/*' && ../../.venv/bin/django-admin compilemessages

bench-web: venv-dev
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	.venv/bin/python bench/web/run.py

bench-analytics: $(UV) bench-pymc
	$(UV) sync --frozen --group bench
	.venv/bin/python bench/analytics/run.py

# pymc-marketing for the side-by-side fits, in an environment of its own: it pins an older numpy
# than Guanxi's.
PYMC_MARKETING := 1.3.0
bench-pymc: $(UV)
	@test -x .venv-pymc/bin/python || (UV_PROJECT_ENVIRONMENT= $(UV) venv -q .venv-pymc && \
	  $(UV) pip install -q --python .venv-pymc/bin/python pymc-marketing==$(PYMC_MARKETING) pyarrow)

clean:
	rm -rf .venv .venv-pymc .tools var
