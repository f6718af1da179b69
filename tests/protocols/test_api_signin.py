"""How callers sign in to the API: every endpoint answers missing or bad credentials with 401,
a challenge and no-store; an agency system signs in with OAuth2 client credentials and acts as
its service user, within its agency's memberships and its scopes."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from casework import services
from casework.models import ApiClient, Membership, Referral
from tests.security.routes import all_routes

TOKEN_URL = "/api/v1/oauth/token/"


def _api_urls() -> list[str]:
    """Every API URL, its parameters filled with 1 (credentials are checked before lookup)."""
    urls = set()
    for route in all_routes():
        if not route.route.startswith("api/") or "format" in route.route:
            continue
        if route.route.startswith("api/v1/oauth/"):
            continue  # the token endpoint: the client's credentials are its body
        url = route.route.replace("^", "").replace("$", "").replace("\\.", ".")
        url = re.sub(r"\(\?P<[^>]+>[^)]*\)", "1", url)
        url = re.sub(r"<[^>]+>", "1", url)
        urls.add("/" + url)
    return sorted(urls)


def test_the_sweep_covers_the_api():
    urls = _api_urls()
    assert "/api/v1/referrals/" in urls and "/api/v1/cases/1/notes/" in urls
    assert "/api/schema/" in urls and len(urls) > 20


@pytest.mark.django_db
@pytest.mark.parametrize(
    "credentials, challenge",
    [
        (None, "Token"),
        ("Token not-a-token", "Token"),
        ("Bearer not-a-token", 'Bearer realm="api",error="invalid_token"'),
    ],
)
def test_every_endpoint_answers_401_with_a_challenge(credentials, challenge):
    client = APIClient()
    if credentials:
        client.credentials(HTTP_AUTHORIZATION=credentials)
    wrong = []
    for url in _api_urls():
        for method in ("get", "post", "patch", "delete"):
            response = getattr(client, method)(url)
            if response.status_code == 405:
                continue
            ok = (
                response.status_code == 401
                and response.get("WWW-Authenticate", "").startswith(challenge)
                and "no-store" in response.get("Cache-Control", "")
                # /api/schema/ and /api/docs/ answer in their own formats (YAML, HTML).
                and (response["Content-Type"] == "application/json" or "/v1/" not in url)
            )
            if not ok:
                wrong.append((method, url, response.status_code, response["Content-Type"]))
    assert wrong == []


# --- OAuth2 client credentials --------------------------------------------------------------


@pytest.fixture
def school_system(school):
    """The school's register, allowed to read and write, acting as the school's referent (who
    sees every referral the school wrote)."""
    return services.api_client_create(
        actor=None,
        agency=school,
        name="Register",
        role=Membership.Role.SCHOOL_REFERENT,
        scopes=["read", "write"],
    )


def _token(client: ApiClient, secret: str, scope: str | None = None):
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return APIClient().post(TOKEN_URL, data, format=None, HTTP_AUTHORIZATION=_basic(client, secret))


def _basic(client: ApiClient, secret: str) -> str:
    import base64

    pair = f"{client.application.client_id}:{secret}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _bearer(access_token: str) -> APIClient:
    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return caller


def _referral(teacher, child):
    return services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry in the mornings.",
        family_informed=True,
    )


def test_a_client_reads_its_agencys_referrals_and_not_anothers(
    school_system, teacher, child, other_teacher, other_school, north
):
    client, secret = school_system
    mine = _referral(teacher, child)
    other_child = services.child_create(
        actor=other_teacher,
        first_name="Sara",
        last_name="Neri",
        date_of_birth="2015-01-01",
        district=north,
        school=other_school,
    )
    theirs = _referral(other_teacher, other_child)
    from tests.conftest import protocol

    protocol("referral.submit")(referral=mine, actor=teacher)
    protocol("referral.submit")(referral=theirs, actor=other_teacher)

    answer = _token(client, secret)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["token_type"] == "Bearer" and set(body["scope"].split()) == {"read", "write"}
    assert "no-store" in answer["Cache-Control"]
    caller = _bearer(body["access_token"])

    listed = caller.get("/api/v1/referrals/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    assert caller.get(f"/api/v1/referrals/{mine.pk}/").status_code == 200
    assert caller.get(f"/api/v1/referrals/{theirs.pk}/").status_code == 404
    # A teacher's system is no triage desk.
    assert caller.get("/api/v1/queue/").status_code == 403
    # The access log names the service user: who read the referral is on record.
    from casework.models import AccessLog

    assert AccessLog.objects.filter(user=client.service_user).exists()


def test_a_read_token_cannot_write(school_system, teacher, child):
    client, secret = school_system
    draft = _referral(teacher, child)
    answer = _token(client, secret, scope="read")
    assert answer.status_code == 200 and answer.json()["scope"] == "read"
    caller = _bearer(answer.json()["access_token"])
    assert caller.get("/api/v1/referrals/").status_code == 200
    refused = caller.post(f"/api/v1/referrals/{draft.pk}/submit/")
    assert refused.status_code == 403
    assert Referral.objects.get(pk=draft.pk).status == Referral.Status.DRAFT
    created = caller.post("/api/v1/referrals/", {}, format="json")
    assert created.status_code == 403


def test_a_read_only_client_gets_no_write_scope(school, teacher):
    client, secret = services.api_client_create(
        actor=None, agency=school, name="Warehouse", role=Membership.Role.TEACHER, scopes=["read"]
    )
    assert _token(client, secret, scope="read write").status_code in (400, 401)
    answer = _token(client, secret)
    assert answer.status_code == 200 and answer.json()["scope"] == "read"


def test_a_bad_secret_gets_no_token(school_system):
    client, _secret = school_system
    answer = _token(client, "not-the-secret")
    assert answer.status_code == 401
    bare = APIClient().post(TOKEN_URL, {"grant_type": "client_credentials"}, format=None)
    assert bare.status_code == 401 and bare.json() == {"error": "invalid_client"}
    assert bare["WWW-Authenticate"] == 'Basic realm="api"'
    assert not AccessToken.objects.exists()


def test_an_expired_or_revoked_token_answers_401(school_system):
    client, secret = school_system
    access = _token(client, secret).json()["access_token"]
    caller = _bearer(access)
    assert caller.get("/api/v1/referrals/").status_code == 200

    AccessToken.objects.filter(application=client.application).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = caller.get("/api/v1/referrals/")
    assert expired.status_code == 401
    assert expired["WWW-Authenticate"].startswith('Bearer realm="api"')
    assert "invalid_token" in expired["WWW-Authenticate"]

    access = _token(client, secret).json()["access_token"]
    revoked = APIClient().post(
        "/api/v1/oauth/revoke/",
        {"token": access},
        format=None,
        HTTP_AUTHORIZATION=_basic(client, secret),
    )
    assert revoked.status_code == 200
    assert _bearer(access).get("/api/v1/referrals/").status_code == 401


def test_a_retired_client_is_refused_at_once(school_system):
    client, secret = school_system
    access = _token(client, secret).json()["access_token"]
    services.api_client_retire(actor=None, client=client)
    assert _bearer(access).get("/api/v1/referrals/").status_code == 401
    assert _token(client, secret).status_code in (400, 401)
    assert not Membership.objects.filter(user=client.service_user, active=True).exists()
    client.refresh_from_db()
    reasons = [row.history_change_reason for row in client.history.order_by("history_id")]
    assert reasons == ["casework.api_client.created", "casework.api_client.retired"]
    with pytest.raises(services.TransitionNotAllowed):
        services.api_client_retire(actor=None, client=client)


def test_the_service_user_cannot_sign_in_to_the_pages(school_system):
    client, _secret = school_system
    assert not client.service_user.has_usable_password()


def test_the_command_creates_a_client_and_prints_its_secret_once(school, capsys):
    call_command(
        "api_client", "create", "--agency", str(school.pk), "--role", "teacher", "--name", "Reg"
    )
    out = capsys.readouterr().out
    client_id = re.search(r"client id:\s+(\S+)", out).group(1)
    secret = re.search(r"client secret:\s+(\S+)", out).group(1)
    client = ApiClient.objects.get(application__client_id=client_id)
    assert client.agency == school and client.scopes == "read"
    assert client.application.client_secret != secret  # stored as a hash
    assert _token(client, secret).status_code == 200

    call_command("api_client", "list")
    assert client_id in capsys.readouterr().out and secret not in out.split("client secret")[0]
    call_command("api_client", "retire", client_id)
    client.refresh_from_db()
    assert not client.active


def test_an_agency_systems_service_user_is_nobody_to_name_on_a_case(
    social_north, teacher, child, triage_worker
):
    from casework import selectors
    from tests.conftest import protocol

    system, _secret = services.api_client_create(
        actor=None, agency=social_north, name="Case register", role="social_worker", scopes=["read"]
    )
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(actor=teacher, referral=draft)
    case = protocol("referral.decide")(actor=triage_worker, referral=referral, decision="open_case")
    robot = system.service_user
    assert robot.memberships.filter(agency=social_north, active=True).exists()
    assert triage_worker in selectors.team_candidates(case)
    assert robot not in selectors.team_candidates(case)
    assert robot not in selectors.team_candidates(case, any_district=True)
    assert robot not in selectors.action_owner_candidates(case)
    assert robot not in selectors.lead_worker_candidates(referral)


def test_the_token_endpoint_is_throttled_per_address(school_system, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "token": "2/minute"}
    client, _secret = school_system
    wrong = {"grant_type": "client_credentials", "client_id": client.application.client_id,
             "client_secret": "not-the-secret"}  # fmt: skip
    caller = APIClient()
    answers = [caller.post("/api/v1/oauth/token/", wrong) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [401, 401]
    assert answers[2].status_code == 429
    assert answers[2].json()["error"] == "slow_down"
    assert int(answers[2]["Retry-After"]) > 0
    cache.clear()
