import pytest
from rest_framework.test import APIClient

from casework.models import Agency
from tests.factories import AgencyFactory, ServiceFactory


@pytest.fixture
def api():
    """api(user) → a client logged in as that user (session authentication)."""

    def make(user):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def service(north):
    return ServiceFactory(name="Family centre North", district=north, min_age=3, max_age=14)


@pytest.fixture
def validating_school(north):
    return AgencyFactory(
        name="Primary Verga",
        kind=Agency.Kind.SCHOOL,
        district=north,
        requires_referent_validation=True,
    )


CHILD = {
    "first_name": "Luca",
    "last_name": "Bruno",
    "date_of_birth": "2016-03-02",
    "school_class": "4B",
    "guardians": [{"name": "Anna Bruno", "relationship": "mother"}],
}

FORM = {
    "concern_categories": ["neglect"],
    "indicators": ["arrives hungry", "same clothes for days"],
    "observations": "Often hungry and tired in the morning.",
    "urgency": "priority",
    "family_informed": True,
    "family_response": "The mother agreed to talk to the social services.",
}


@pytest.fixture
def file_referral(api):
    """file_referral(teacher, **form) → the id of a submitted referral, through the API."""

    def make(teacher, child=None, submit=True, **form):
        client = api(teacher)
        response = client.post(
            "/api/v1/referrals/", {"child": child or CHILD, **FORM, **form}, format="json"
        )
        assert response.status_code == 201, response.json()
        pk = response.json()["id"]
        if submit:
            response = client.post(f"/api/v1/referrals/{pk}/submit/")
            assert response.status_code == 200, response.json()
        return pk

    return make
