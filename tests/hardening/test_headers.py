"""Strict headers: CSP on pages, no-store on everything a signed-in person or the API gets,
HTTPS redirect and HSTS on by default in production."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from casework import services

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def assert_not_stored(response):
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


def test_a_page_with_child_data_has_csp_and_no_store(client, teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    client.force_login(teacher)
    response = client.get(f"/casework/referrals/{draft.pk}/edit/")
    assert response.status_code == 200
    assert_not_stored(response)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    # The form's behaviour comes from casework.js: no inline script on the page, and none
    # would run (no 'unsafe-inline'; a nonce only on pages that use one).
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    assert [attrs for attrs in scripts if "src=" not in attrs] == []
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'self'" in script_src and "'unsafe-inline'" not in script_src
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_api_answer_with_child_data_is_not_stored(client, triage_worker, teacher, child):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    from tests.conftest import protocol

    protocol("referral.submit")(referral=draft, actor=teacher)
    client.force_login(triage_worker)
    response = client.get(f"/api/v1/referrals/{draft.pk}/")
    assert response.status_code == 200 and response.json()["id"] == draft.pk
    assert_not_stored(response)
    assert "default-src 'self'" in response["Content-Security-Policy"]
    # Token callers too, and refusals.
    client.logout()
    refused = client.get(f"/api/v1/referrals/{draft.pk}/")
    assert refused.status_code in (401, 403)
    assert_not_stored(refused)


def test_the_api_documentation_runs_under_the_policy(client, triage_worker):
    client.force_login(triage_worker)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_the_login_page_has_the_policy_too(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert_not_stored(response)  # Django's own never_cache on the login view


def test_https_redirect_and_hsts_when_switched_on(client, teacher, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    client.force_login(teacher)
    plain = client.get("/casework/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/casework/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def deploy_check(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env.update(
        DEBUG="0",
        SECRET_KEY="a-production-secret-key-" + "x1y2z3" * 8,
        ALLOWED_HOSTS="casework.example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES"):
        env.pop(name, None)
    env.update(overrides)
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_defaults_pass_the_deploy_check_and_switching_off_is_flagged():
    assert deploy_check().returncode == 0
    off = deploy_check(SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0")
    assert off.returncode != 0
    assert "security.W004" in off.stderr and "security.W008" in off.stderr
