"""What the API promises every client: unknown fields refused, text kept as sent, control
characters refused, JSON for every failure, 401 with a challenge, and a schema that says so."""

import json

import pytest
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from casework import services
from casework.models import Referral
from tests.conftest import protocol

from .conftest import CHILD, FORM


def test_unknown_fields_are_refused_with_their_names(api, teacher):
    response = api(teacher).post(
        "/api/v1/referrals/",
        {"child": {**CHILD, "nickname": "x"}, **FORM, "status": "closed", "referrer": 1},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"status", "referrer"}
    assert "nickname" in body["child"]
    assert not Referral.objects.exists()


def test_unknown_fields_are_refused_on_a_step(api, teacher, triage_worker, file_referral):
    pk = file_referral(teacher)
    response = api(triage_worker).post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "no_further_action", "reason": "Seen.", "feedback": "Ok.", "referrer": 3},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["referrer"]
    assert Referral.objects.get(pk=pk).status == Referral.Status.SUBMITTED


def test_free_text_is_kept_exactly_as_sent(api, teacher):
    text = "  indented first line\n\tand a tab\r\nlast space "
    response = api(teacher).post(
        "/api/v1/referrals/",
        {"child": CHILD, **FORM, "observations": text},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["observations"] == text
    assert Referral.objects.get().observations == text


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f"])
def test_control_characters_are_refused_with_a_message(api, teacher, bad):
    client = api(teacher)
    response = client.post(
        "/api/v1/referrals/",
        {"child": {**CHILD, "first_name": f"Lu{bad}ca"}, **FORM, "observations": f"a{bad}b"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"observations", "child"}
    assert list(body["child"]) == ["first_name"]
    if bad != "\x00":  # NUL: DRF's own message says so first
        assert "control characters" in body["observations"][0]


def test_a_line_break_in_a_name_is_refused(api, teacher):
    response = api(teacher).post(
        "/api/v1/referrals/",
        {"child": {**CHILD, "last_name": "Bru\nno"}, **FORM},
        format="json",
    )
    assert response.status_code == 400
    assert "last_name" in response.json()["child"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_answers_413_in_json(api, teacher):
    response = api(teacher).post(
        "/api/v1/referrals/",
        {"child": CHILD, **FORM, "observations": "x" * 2000},
        format="json",
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()
    assert not Referral.objects.exists()


def test_no_credentials_answers_401_with_a_challenge(db):
    response = APIClient().get("/api/v1/referrals/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]


def test_a_bad_token_answers_401_with_a_challenge(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_a_personal_token_signs_in(teacher):
    _token, key = AuthToken.objects.create(user=teacher)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/referrals/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_errors_follow_accept_language_and_default_to_the_settings(api, teacher, settings):
    settings.LANGUAGE_CODE = "it"
    client = api(teacher)
    response = client.post(
        "/api/v1/referrals/", {"child": {**CHILD, "x": 1}}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.json()["child"]["x"] == ["This field cannot be set here."]
    response = client.post("/api/v1/referrals/", {"child": {**CHILD, "x": 1}}, format="json")
    assert response.json()["child"]["x"] != ["This field cannot be set here."]


# --- the schema ------------------------------------------------------------------------------


@pytest.fixture
def schema(api, teacher):
    response = api(teacher).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_schema_says_which_fields_may_be_null(schema):
    components = schema["components"]["schemas"]
    assert components["ReferralForReferrer"]["properties"]["redirected_to"]["nullable"] is True
    assert components["ServiceOut"]["properties"]["agency"]["nullable"] is True


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403"} <= codes, (method, path)
            if method in ("post", "patch", "put"):
                assert {"400", "409", "413"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)


def test_query_parameters_are_documented_only_where_they_are_read(schema):
    """A list's filters on a case's notes or on a write would be a lie a generated client
    repeats: only lists (and the indicators) take query parameters."""
    taking = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                taking.add((method, path))
    assert all(method == "get" for method, _path in taking), sorted(taking)
    case_notes = schema["paths"]["/api/v1/cases/{id}/notes/"]["get"]["parameters"]
    assert {p["name"] for p in case_notes if p["in"] == "query"} == {"page", "page_size"}
    assert ("get", "/api/v1/alerts/{id}/") not in taking


def test_errors_are_one_model_for_every_operation(schema):
    """A client generated from the schema gets one `Error` model, not one per operation."""
    refused = schema["paths"]["/api/v1/referrals/{id}/submit/"]["post"]["responses"]["409"]
    assert refused["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    body = schema["paths"]["/api/v1/referrals/"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]  # a form cannot carry the nested child
    upload = schema["components"]["schemas"]["AttachmentInput"]["properties"]["file"]
    assert upload == {"type": "string", "format": "binary"}


def test_the_schema_documents_the_language_rule(schema):
    assert "Accept-Language" in schema["info"]["description"]


# --- lists people can use ----------------------------------------------------------------


def test_the_referral_list_filters_each_scope(api, teacher, triage_worker, file_referral):
    urgent = file_referral(teacher, urgency="urgent")
    file_referral(teacher, urgency="routine")
    draft = file_referral(teacher, submit=False)
    client = api(teacher)

    def ids(query):
        response = client.get(f"/api/v1/referrals/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("urgency=urgent") == [urgent]
    assert ids("status=draft") == [draft]
    assert ids("mine=1&status=draft") == [draft]
    assert ids("mine=0") == []
    assert ids("created_after=2000-01-01&urgency=urgent") == [urgent]
    assert ids("created_before=2000-01-01") == []
    assert ids("district=north&status=draft") == [draft]
    # The triage side sees the district's two submitted ones, never the draft.
    response = api(triage_worker).get("/api/v1/referrals/?status=draft")
    assert response.json()["results"] == []
    response = api(triage_worker).get("/api/v1/referrals/?overdue=0")
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize(
    "query",
    ["status=bogus", "urgency=soon", "district=atlantis", "overdue=maybe", "created_after=x"],
)
def test_a_filter_value_the_list_does_not_know_answers_400(api, teacher, query):
    response = api(teacher).get(f"/api/v1/referrals/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0].removesuffix("_after") in str(response.json())


def test_page_size_is_chosen_up_to_a_maximum(api, teacher, file_referral):
    for _ in range(3):
        file_referral(teacher, submit=False)
    client = api(teacher)
    response = client.get("/api/v1/referrals/?page_size=2")
    assert len(response.json()["results"]) == 2
    following = client.get(response.json()["next"])
    assert len(following.json()["results"]) == 1
    for bad in ("0", "201", "x"):
        response = client.get(f"/api/v1/referrals/?page_size={bad}")
        assert response.status_code == 400
        assert "page_size" in response.json()
    assert client.get("/api/v1/cases/?page_size=500").status_code == 400


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def test_the_case_list_filters(api, case, triage_worker):
    open_case = case
    client = api(triage_worker)

    def ids(query):
        response = client.get(f"/api/v1/cases/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=open") == [open_case.pk]
    assert ids("status=closed") == []
    assert ids("mine=1") == ids("") == [open_case.pk]
    assert ids("opened_before=2000-01-01") == []
    assert client.get("/api/v1/cases/?status=bogus").status_code == 400
    assert client.get("/api/v1/cases/?risk_level=x").status_code == 400


def test_the_other_inputs_follow_the_same_rules(api, teacher, dpo, north, school):
    """Consultations, holds (and meetings, alerts: the same base) refuse unknown fields by name,
    keep free text as sent and refuse control characters, like the referral's inputs."""
    from casework.models import Consultation, LegalHold

    question = "  Is this a worry?\n\tThe child is often hungry "
    ask = {"age_band": "6-10", "concern_categories": ["neglect"], "question": question}
    refused = api(teacher).post(
        "/api/v1/consultations/", {**ask, "status": "answered"}, format="json"
    )
    assert refused.status_code == 400 and list(refused.json()) == ["status"]
    assert not Consultation.objects.exists()
    asked = api(teacher).post("/api/v1/consultations/", ask, format="json")
    assert asked.status_code == 201, asked.json()
    assert Consultation.objects.get().question == question
    bell = api(teacher).post(
        f"/api/v1/consultations/{asked.json()['id']}/messages/",
        {"body": "Ring\x07"},
        format="json",
    )
    assert bell.status_code == 400 and "body" in bell.json()

    child = services.child_create(
        actor=teacher,
        first_name="Held",
        last_name="Example",
        date_of_birth="2017-01-01",
        district=north,
        school=school,
        guardians=[],
    )
    reason = "  Court order 12/2030\n"
    hold = {"kind": "child", "object_id": child.pk, "reason": reason}
    extra = api(dpo).post("/api/v1/holds/", {**hold, "until": "2030-01-01"}, format="json")
    assert extra.status_code == 400 and list(extra.json()) == ["until"]
    assert not LegalHold.objects.exists()
    placed = api(dpo).post("/api/v1/holds/", hold, format="json")
    assert placed.status_code == 201, placed.json()
    assert LegalHold.objects.get().reason == reason
