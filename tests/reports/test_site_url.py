"""SITE_URL, the address printed in published PDFs' links, is required in production."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.test import override_settings

from reports.checks import site_url_check

ROOT = Path(__file__).resolve().parents[2]


def _ids(**settings) -> list[str]:
    with override_settings(**settings):
        return [problem.id for problem in site_url_check(None)]


def test_it_is_required_when_debug_is_off():
    assert _ids(DEBUG=False, SITE_URL="") == ["reports.E001"]


def test_it_may_be_left_out_in_development():
    assert _ids(DEBUG=True, SITE_URL="") == []


def test_it_must_be_a_web_address():
    for wrong in (
        "pcp.example.police.uk",
        "ftp://pcp.example.police.uk",
        "https://",
        "https://x/?a=1",
    ):
        assert _ids(DEBUG=False, SITE_URL=wrong) == ["reports.E002"], wrong


def test_in_production_it_should_be_https():
    assert _ids(DEBUG=False, SITE_URL="http://pcp.example.police.uk") == ["reports.W001"]
    assert _ids(DEBUG=False, SITE_URL="https://pcp.example.police.uk") == []
    assert _ids(DEBUG=True, SITE_URL="http://127.0.0.1:8000") == []


def _check(**env) -> subprocess.CompletedProcess:
    production = {
        **{k: v for k, v in os.environ.items() if k != "SITE_URL"},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pcp.example.police.uk",
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_fails_without_it_and_passes_with_it():
    without = _check()
    assert without.returncode == 1
    assert "reports.E001" in without.stderr + without.stdout

    with_it = _check(SITE_URL="https://pcp.example.police.uk")
    assert with_it.returncode == 0, with_it.stdout + with_it.stderr
    assert "no issues" in with_it.stdout
