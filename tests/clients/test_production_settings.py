"""Production settings (DEBUG=0) refuse the dev keys and pass `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(args, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE",
                         "DJANGO_ALLOW_ASYNC_UNSAFE"}}  # set by the browser fixture
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**base, **env}, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    result = _run(["-c", "import django; django.setup()"], DEBUG="0",
                  DJANGO_SETTINGS_MODULE="brokercrm.settings")

    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_production_refuses_the_dev_field_encryption_key():
    result = _run(["-c", "import django; django.setup()"], DEBUG="0",
                  DJANGO_SETTINGS_MODULE="brokercrm.settings", SECRET_KEY=secrets.token_urlsafe(50))

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def test_check_deploy_is_clean_with_real_keys():
    # Only the deployment (security) checks: the schema generator's naming hints are
    # another app's business and are not about running safely in production.
    result = _run(["manage.py", "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"],
                  DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50),
                  FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_has_no_errors_at_all():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "ERROR"], DEBUG="0",
                  SECRET_KEY=secrets.token_urlsafe(50), FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "security." not in result.stdout + result.stderr
