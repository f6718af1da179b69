"""Two-factor sign-in (django-otp) for everyone who can read case data, and API tokens that
users make and revoke themselves (django-rest-knox: hashed, expiring)."""

import base64
import datetime
import re

import pytest
import time_machine
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from casework import permissions
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _enforced(settings):
    settings.TWO_FACTOR_ENFORCED = True


def code_for(key_hex: str) -> str:
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def device_for(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def confirm(client, device, next_url="/"):
    response = client.post(
        f"/accounts/2fa/?next={next_url}", {"otp_token": code_for(device.key), "next": next_url}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return response


@pytest.fixture
def referral_in_queue(teacher, child):
    from casework import services
    from tests.conftest import protocol

    form = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
    draft = services.referral_create_draft(actor=teacher, child=child, **form)
    return protocol("referral.submit")(referral=draft, actor=teacher)


def test_who_must_use_a_second_factor(
    triage_worker, supervisor, psychologist, teacher, school_referent, stranger, settings
):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    for person in (admin, triage_worker, supervisor, psychologist):
        assert permissions.needs_second_factor(person), person.username
    for person in (teacher, school_referent, stranger):
        assert not permissions.needs_second_factor(person), person.username
    settings.TWO_FACTOR = "everyone"
    assert permissions.needs_second_factor(teacher)


def test_without_the_second_factor_a_social_worker_reaches_nothing(
    client, triage_worker, referral_in_queue
):
    client.force_login(triage_worker)
    page = client.get("/casework/queue/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/2fa/?next=/casework/queue/"
    # With no device yet, the second-factor page sends them to set one up.
    assert (
        client.get(page["Location"])["Location"]
        == "/accounts/2fa/enrol/?next=%2Fcasework%2Fqueue%2F"
    )
    api = client.get(f"/api/v1/referrals/{referral_in_queue.pk}/")
    assert api.status_code == 403
    assert api.json() == {"detail": "Confirm your sign-in with your second factor first."}
    assert str(referral_in_queue.child) not in api.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_teacher_may_go_without(client, teacher):
    client.force_login(teacher)
    assert client.get("/casework/").status_code == 200


def test_enrolment_then_the_backup_codes_then_everything_opens(client, triage_worker):
    client.force_login(triage_worker)
    page = client.get("/accounts/2fa/enrol/?next=/casework/queue/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = re.search(r'data-testid="otp-secret"[^>]*>([A-Z2-7=]+)<', html).group(1)
    assert not TOTPDevice.objects.exists()  # nothing stored before the first right code
    key = base64.b32decode(secret).hex()

    wrong = client.post("/accounts/2fa/enrol/", {"otp_token": "000000", "next": "/casework/queue/"})
    assert "This code is not valid" in wrong.content.decode()
    assert not TOTPDevice.objects.exists()

    done = client.post(
        "/accounts/2fa/enrol/", {"otp_token": code_for(key), "next": "/casework/queue/"}
    )
    codes = re.findall(r"<li><code>([a-z0-9]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    device = TOTPDevice.objects.get(user=triage_worker)
    assert device.confirmed and device.key == key
    assert StaticToken.objects.filter(device__user=triage_worker).count() == 10
    assert client.get("/casework/queue/").status_code == 200


def test_a_later_sign_in_asks_for_the_code_and_a_backup_code_works_once(client, triage_worker):
    device = device_for(triage_worker)
    backup = triage_worker.staticdevice_set.create(name="backup")
    backup.token_set.create(token="backup42")
    client.force_login(triage_worker)
    page = client.get("/accounts/2fa/?next=/casework/queue/")
    assert page.status_code == 200
    wrong = client.post("/accounts/2fa/", {"otp_token": "123456", "next": "/casework/queue/"})
    assert wrong.status_code == 200 and "This code is not valid" in wrong.content.decode()
    assert client.get("/casework/queue/").status_code == 302

    right = client.post("/accounts/2fa/", {"otp_token": "backup42", "next": "/casework/queue/"})
    assert right.status_code == 302 and right["Location"] == "/casework/queue/"
    assert client.get("/casework/queue/").status_code == 200
    client.logout()
    client.force_login(triage_worker)
    again = client.post("/accounts/2fa/", {"otp_token": "backup42", "next": "/"})
    assert again.status_code == 200  # used up
    # The app's code still works, once the wait its wrong code earned is over.
    with time_machine.travel(datetime.timedelta(seconds=5)):
        confirm(client, device, "/casework/queue/")
    assert client.get("/casework/queue/").status_code == 200


def test_the_next_address_cannot_lead_off_site(client, triage_worker):
    device = device_for(triage_worker)
    client.force_login(triage_worker)
    response = client.post(
        "/accounts/2fa/", {"otp_token": code_for(device.key), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_api_tokens_are_made_after_the_second_factor_hashed_and_expiring(
    client, triage_worker, settings
):
    api = APIClient()
    missing = api.get("/api/v1/queue/")
    assert missing.status_code == 401 and missing["WWW-Authenticate"] == "Token"

    device = device_for(triage_worker)
    client.force_login(triage_worker)
    refused = client.post("/accounts/tokens/")
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/2fa/")
    assert not AuthToken.objects.exists()

    confirm(client, device)
    page = client.post("/accounts/tokens/")
    token = re.search(r'data-testid="api-token">([0-9a-f]+)<', page.content.decode()).group(1)
    stored = AuthToken.objects.get(user=triage_worker)
    assert stored.digest != token and token not in stored.digest  # only a hash is kept
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        assert all(token not in value for value in cursor.fetchone())
    lifetime = (stored.expiry - stored.created).total_seconds() / 86400
    assert round(lifetime) == settings.REST_KNOX["TOKEN_TTL"].days == 90

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/queue/").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token " + "0" * len(token))
    refused = bad.get("/api/v1/queue/")
    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"

    profile = client.get("/accounts/profile/").content.decode()
    assert stored.token_key[:8] in profile and token not in profile

    with time_machine.travel(stored.expiry + datetime.timedelta(minutes=1)):
        assert api.get("/api/v1/queue/").status_code == 401
    assert not AuthToken.objects.exists()  # knox removes an expired token when it is tried


def test_a_user_revokes_their_own_token_and_no_one_elses(client, triage_worker, supervisor):
    _theirs, other_token = AuthToken.objects.create(user=supervisor)
    mine, my_token = AuthToken.objects.create(user=triage_worker)
    device = device_for(triage_worker)
    client.force_login(triage_worker)
    confirm(client, device)
    other = AuthToken.objects.get(user=supervisor)
    assert client.post(f"/accounts/tokens/{other.token_key}/revoke/").status_code == 404
    response = client.post(f"/accounts/tokens/{mine.token_key}/revoke/")
    assert response.status_code == 302
    assert list(AuthToken.objects.values_list("user", flat=True)) == [supervisor.pk]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {my_token}")
    assert api.get("/api/v1/queue/").status_code == 401


def test_a_newcomer_signs_in_as_a_demo_user_with_the_printed_code(client, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from fixtures import demo

    out = StringIO()
    call_command("load_demo", "--force", stdout=out)
    assert "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("demo_code", stdout=StringIO())  # DEBUG is off in the tests
    settings.DEBUG = True
    printed = StringIO()
    call_command("demo_code", stdout=printed)
    assert printed.getvalue().strip() == code_for(demo.DEMO_TOTP_KEY)

    assert (
        client.post(
            "/accounts/login/", {"username": "as.ferri", "password": demo.DEMO_PASSWORD}
        ).status_code
        == 302
    )
    assert client.get("/casework/queue/")["Location"].startswith("/accounts/2fa/")
    client.post("/accounts/2fa/", {"otp_token": printed.getvalue().strip(), "next": "/"})
    assert client.get("/casework/queue/").status_code == 200
