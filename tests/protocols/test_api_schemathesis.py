"""The API against its own schema (schemathesis): every operation, as a teacher, a triage
worker and a supervisor, with generated data, every check — no server error, no answer that
breaks the schema, no status the schema does not list. In process (WSGI), a fixed seed, a
bounded number of examples per operation: it fits CI's minute. SQLite only for now (see the
skip in `schema`).

Fewer or more examples: SCHEMATHESIS_EXAMPLES (default 3 per operation and persona)."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from knox.models import AuthToken
from rest_framework.test import APIClient
from schemathesis.specs.openapi import checks

from casework import services
from tests.conftest import protocol

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
# Every check but one: "a schema-valid request is accepted" does not hold for a value that
# names an object (a district code, a school's id in a filter): an unknown one is refused with
# a 400 naming the parameter, which no schema can express (the valid values are data).
EXCLUDED = [checks.positive_data_acceptance]


@pytest.fixture
def world(teacher, triage_worker, supervisor, child, north, service):
    """Something to find: a draft, a submitted referral, an open case."""
    form = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}
    services.referral_create_draft(actor=teacher, child=child, **form)
    submitted = services.referral_create_draft(actor=teacher, child=child, **form)
    protocol("referral.submit")(referral=submitted, actor=teacher)
    opened = services.referral_create_draft(actor=teacher, child=child, **form)
    opened = protocol("referral.submit")(referral=opened, actor=teacher)
    protocol("referral.decide")(referral=opened, actor=triage_worker, decision="open_case")
    return {"teacher": teacher, "triage_worker": triage_worker, "supervisor": supervisor}


@pytest.fixture
def in_process():
    """Requests served in the test's transaction, as Django's test client serves them: the
    end of a request must not close the connection (on PostgreSQL it would end the test's
    transaction and every request after it)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def schema(supervisor, settings, in_process):
    from django.db import connection

    if connection.vendor == "postgresql":
        # Known gap: in process on PostgreSQL the requests find the test's connection closed
        # ("the connection is closed") after the first call, even with close_old_connections
        # disconnected; to be fixed (a transactional test, or a live server) before this runs
        # on PostgreSQL. The schema and the views are the same on both databases.
        pytest.skip("schemathesis in process does not run on PostgreSQL yet")
    settings.ALLOWED_HOSTS = ["*"]
    caller = APIClient()
    caller.force_authenticate(supervisor)
    document = caller.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def _examples_of(operation, headers):
    """A hypothesis test of one operation: EXAMPLES cases, each called and checked."""
    strategy = operation.as_strategy()

    @seed(20261206)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data):
        case = data.draw(strategy)
        # Each call on the world as the fixture made it: a step one example took (a draft
        # deleted, a referral claimed) is undone before the next.
        savepoint = transaction.savepoint()
        try:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED)
        finally:
            transaction.savepoint_rollback(savepoint)

    return run


@pytest.mark.parametrize("persona", ["teacher", "triage_worker", "supervisor"])
def test_the_api_keeps_to_its_schema(world, schema, persona):
    _token, key = AuthToken.objects.create(user=world[persona])
    headers = {"Authorization": f"Token {key}", "Accept-Language": "en"}
    failures = []
    for operation in _operations(schema):
        run = _examples_of(operation, headers)
        try:
            run()
        except BaseException as failure:  # collected: one report with every operation that failed
            failures.append(f"{operation.label}: {str(failure)[:1500]}")
    assert failures == [], "\n\n".join(failures)
