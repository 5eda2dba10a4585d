# BrokerCRM — the two commands of the README are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test up down lint messages clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make demo: embedded mode (SQLite, eager Celery), demo data, dev server, logins printed.
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Serving on http://$(HOST):$(PORT)/ — log in with one of the users above (Ctrl-C stops)."
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make test: the whole suite; honours DATABASE_URL / CELERY_BROKER_URL when set.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make up: production-like stack on this machine: gunicorn + Celery worker + beat
## against DATABASE_URL and CELERY_BROKER_URL (defaults: local PostgreSQL and Redis).
up: install
	@mkdir -p var/run var/log
	@test -s var/secret_key || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
	@test -s var/field_key || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > var/field_key
	$(UP_ENV) $(BIN)/python -m brokercrm.ensure_db
	$(UP_ENV) $(BIN)/python manage.py migrate --noinput
	$(UP_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	$(UP_ENV) $(BIN)/celery -A brokercrm worker -l info --detach --pidfile=var/run/worker.pid --logfile=var/log/worker.log
	$(UP_ENV) $(BIN)/celery -A brokercrm beat -l info --detach --pidfile=var/run/beat.pid --logfile=var/log/beat.log
	$(UP_ENV) $(BIN)/gunicorn brokercrm.wsgi -b $(HOST):$(PORT) -w 3 --daemon --pid var/run/gunicorn.pid --access-logfile var/log/access.log --error-logfile var/log/gunicorn.log
	@echo "Up on http://$(HOST):$(PORT)/ (health: /healthz). 'make down' stops it."

down:
	-@for p in gunicorn worker beat; do test -f var/run/$$p.pid && kill $$(cat var/run/$$p.pid) && rm -f var/run/$$p.pid; done; true

UP_ENV = DEBUG=0 SECRET_KEY=$$(cat var/secret_key) FIELD_ENCRYPTION_KEY=$${FIELD_ENCRYPTION_KEY:-$$(cat var/field_key)} \
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/brokercrm} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-0} SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-0} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-0}

lint: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

## Re-extract and compile translations (needs gettext's msgfmt).
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=benchmarks \
		--ignore=tests --ignore=suitability --ignore=segmentation --ignore=brokers --ignore=clients/importers
	for app in suitability segmentation brokers clients/importers; do \
		(cd $$app && DJANGO_SETTINGS_MODULE=brokercrm.settings PYTHONPATH=$(CURDIR) \
			$(CURDIR)/$(BIN)/django-admin makemessages -l zh_Hans); done
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) var
