"""The case list's search and ordering: words in the reference, the district or the lead
worker (never the child's name, which never goes in a URL), an order from a fixed list."""

import pytest

from casework import services
from tests.conftest import protocol


def _case(teacher, triage_worker, child):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


@pytest.fixture
def two_cases(teacher, triage_worker, child, north, school):
    second_child = services.child_create(
        actor=teacher,
        first_name="Sara",
        last_name="Neri",
        date_of_birth="2015-01-01",
        district=north,
        school=school,
    )
    return _case(teacher, triage_worker, child), _case(teacher, triage_worker, second_child)


def test_the_case_list_searches_and_orders(api, two_cases, triage_worker):
    first, second = two_cases
    client = api(triage_worker)

    def ids(query):
        response = client.get(f"/api/v1/cases/?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(f"search={first.reference}") == [first.pk]
    assert set(ids("search=North")) == {first.pk, second.pk}
    assert ids("search=nowhere") == []
    # The child's name is not searched: it never goes in a query string.
    assert ids("search=Bruno") == []
    by_reference = sorted([first, second], key=lambda c: c.reference)
    assert ids("ordering=reference") == [c.pk for c in by_reference]
    assert ids("ordering=-reference") == [c.pk for c in reversed(by_reference)]
    assert ids("ordering=-opened") == [second.pk, first.pk]
    refused = client.get("/api/v1/cases/?ordering=child")
    assert refused.status_code == 400 and "ordering" in refused.json()


def test_search_and_ordering_are_in_the_schema(api, triage_worker):
    schema = (
        api(triage_worker)
        .get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        .json()
    )
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert "search" in parameters
    ordering = parameters["ordering"]["schema"]
    assert set(ordering["items"]["enum"]) >= {"reference", "-reference", "opened", "-next_review"}
