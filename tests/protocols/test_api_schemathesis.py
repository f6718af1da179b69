"""The API against its own schema (schemathesis), from outside: a running server (pytest-django's
live server, on the test database, PostgreSQL or SQLite), the schema loaded from its URL, every
operation called over HTTP as a teacher, a triage worker, a supervisor and an agency's system
(OAuth2 client credentials), with generated data, every check — no server error, no answer
that breaks the schema, no status the schema does not list, invalid data refused.

A fixed seed (derandomize) and a bounded number of examples per operation and persona, so the
run is the same every time and fits CI's time. Ids in paths are drawn from the world's objects
(and one that does not exist), so the calls reach real referrals and cases, not only 404s.

The server commits (it is another thread with its own connection): a call changes the world
for the calls after it (a draft deleted, a referral claimed), in the same order every run.
Each persona starts from a fresh world (the test is transactional: flushed after each).

More or fewer examples: SCHEMATHESIS_EXAMPLES (positive, default 2 per operation and persona)
and SCHEMATHESIS_NEGATIVE_EXAMPLES (invalid data, default 1)."""

import base64
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from knox.models import AuthToken
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from casework import models, services
from casework.models import Membership
from tests.conftest import protocol

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "2"))
NEGATIVE_EXAMPLES = int(os.environ.get("SCHEMATHESIS_NEGATIVE_EXAMPLES", "1"))
SEED = 20261206
PERSONAS = ["teacher", "triage_worker", "supervisor", "agency_system"]

# Every check but one: "a schema-valid request is accepted" does not hold for a value that
# names an object (a district code, a school's id in a filter, an action of another case) or
# for a step the object's state does not allow: the answer is a documented 400 naming the
# parameter, 404 or 409, which no schema can express (the valid values are data and state).
EXCLUDED = [checks.positive_data_acceptance]

# Where the ids in paths come from: the world's objects of the resource, and one that
# does not exist.
RESOURCES = {
    "referrals": models.Referral,
    "cases": models.Case,
    "alerts": models.PatternAlert,
    "attachments": models.Attachment,
    "consultations": models.Consultation,
    "handovers": models.HandOver,
    "holds": models.LegalHold,
    "meetings": models.NetworkMeeting,
    "notifications": models.Notification,
    "referents": models.Referent,
    "services": models.Service,
    "transfers": models.CaseTransfer,
}
SUB_RESOURCES = {
    "action_pk": models.Action,
    "member_pk": models.CaseTeamMember,
    "consent_pk": models.Consent,
    "objection_pk": models.Objection,
}


@pytest.fixture
def world(teacher, triage_worker, supervisor, psychologist, health_north, social_north, child):
    """Something to find and act on: two drafts, a submitted referral, an open case with an
    action and a second team member."""
    form = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
    for _ in range(2):
        services.referral_create_draft(actor=teacher, child=child, **form)
    submitted = services.referral_create_draft(actor=teacher, child=child, **form)
    protocol("referral.submit")(referral=submitted, actor=teacher)
    opened = services.referral_create_draft(actor=teacher, child=child, **form)
    opened = protocol("referral.submit")(referral=opened, actor=teacher)
    case = protocol("referral.decide")(referral=opened, actor=triage_worker, decision="open_case")
    services.case_add_action(
        actor=triage_worker, case=case, objective="Home visit", owning_agency=social_north
    )
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason="Assessment",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    return {"teacher": teacher, "triage_worker": triage_worker, "supervisor": supervisor}


def _agency_system_token(base_url: str, agency) -> str:
    """An OAuth2 client-credentials token for a social services' system, read and write."""
    client, secret = services.api_client_create(
        actor=None,
        agency=agency,
        name="Case system",
        role=Membership.Role.SOCIAL_WORKER,
        scopes=["read", "write"],
    )
    pair = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    answer = requests.post(
        f"{base_url}/api/v1/oauth/token/",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {pair}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def _ids(model) -> list[int]:
    known = sorted(model.objects.values_list("pk", flat=True))
    return [*known, (known[-1] if known else 0) + 1000]


def _strategy(operation, mode):
    """Cases of `operation` in `mode`, the ids in its path drawn from the world (one strategy
    built per set of ids, not one per draw)."""
    names = {p.name for p in operation.path_parameters}
    resource = operation.path.split("/")[3]
    choices = {}
    if "id" in names and resource in RESOURCES:
        choices["id"] = _ids(RESOURCES[resource])
    for name, model in SUB_RESOURCES.items():
        if name in names:
            choices[name] = _ids(model)
    if not choices:
        return operation.as_strategy(generation_mode=mode)
    built = {}

    def cases_with(path):
        key = tuple(sorted(path.items()))
        if key not in built:
            built[key] = operation.as_strategy(generation_mode=mode, path_parameters=path)
        return built[key]

    fixed = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in choices.items()})
    return fixed.flatmap(cases_with)


def _examples_of(operation, mode, count, call):
    strategy = _strategy(operation, mode)

    @seed(SEED)
    @settings(
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: a failure is reported as found (shrinking calls the server again and
        # again, minutes of CI time for a smaller example of the same defect).
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        call(data.draw(strategy))

    return run


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_keeps_to_its_schema(world, live_server, social_north, persona):
    base_url = live_server.url
    if persona == "agency_system":
        authorization = f"Bearer {_agency_system_token(base_url, social_north)}"
    else:
        authorization = f"Token {AuthToken.objects.create(user=world[persona])[1]}"
    headers = {"Authorization": authorization, "Accept-Language": "en"}
    schema = schemathesis.openapi.from_url(
        f"{base_url}/api/schema/?format=json", headers=headers, timeout=60
    )
    session = requests.Session()

    # "Credentials are not ignored" sends each case again without and with bad credentials:
    # checked as the first persona only (it is the same answer, 401, whoever signed in, and
    # tests/protocols/test_api_signin.py asks it of every endpoint and method), which keeps
    # the run in CI's time.
    excluded = EXCLUDED if persona == PERSONAS[0] else [*EXCLUDED, checks.ignored_auth]

    def call(case):
        case.call_and_validate(
            base_url=base_url, session=session, headers=headers, excluded_checks=excluded
        )

    failures = []
    try:
        _run_every_operation(schema, call, failures)
    finally:
        session.close()  # the server's thread ends, and its database connection with it
    assert failures == [], "\n\n".join(failures)


def _run_every_operation(schema, call, failures):
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, count in (
            (GenerationMode.POSITIVE, EXAMPLES),
            (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES),
        ):
            try:
                _examples_of(operation, mode, count, call)()
            except Unsatisfiable:
                continue  # nothing invalid to send: no parameter, no body to break
            except BaseException as failure:  # collected: one report with every failure
                failures.append(f"{operation.label} [{mode.value}]: {str(failure)[:1500]}")
