"""The queue's filters (casework/filters.py): one definition for the page and the API, so the
same query string lists the same referrals in the same order on both; the API refuses a value
it does not know with a 400 naming the parameter, the page leaves it out."""

import datetime
import re

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from casework import services
from casework.filters import years_ago
from casework.models import Agency
from tests.conftest import protocol
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


def _file(teacher, school, district, *, age, urgency="routine", name):
    child = services.child_create(
        actor=teacher,
        first_name=name,
        last_name="Queue",
        # Born a few days after the birthday: `age` years old today, whatever the date.
        date_of_birth=years_ago(age, timezone.localdate()) - datetime.timedelta(days=3),
        district=district,
        school=school,
    )
    draft = services.referral_create_draft(actor=teacher, child=child, urgency=urgency, **FORM)
    return protocol("referral.submit")(actor=teacher, referral=draft)


@pytest.fixture
def queue(teacher, other_teacher, triage_worker, north, school, other_school, outsider, south):
    """Five referrals of North, each different from the others in one way, and one of South."""
    with time_machine.travel(timezone.now() - datetime.timedelta(days=40)):
        overdue = _file(teacher, school, north, age=9, name="Overdue")
    rows = {
        "overdue": overdue,
        "urgent": _file(teacher, school, north, age=12, urgency="urgent", name="Urgent"),
        "young": _file(teacher, school, north, age=5, urgency="priority", name="Young"),
        "other_school": _file(other_teacher, other_school, north, age=8, name="Other"),
        "claimed": _file(teacher, school, north, age=10, name="Claimed"),
    }
    protocol("referral.claim")(actor=triage_worker, referral=rows["claimed"])
    return {key: referral.pk for key, referral in rows.items()}


def web_ids(client, query: str) -> list[int]:
    response = client.get(f"/casework/queue/?{query}")
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'href="/casework/referrals/(\d+)/"', response.text)]


def api_ids(api, query: str) -> list[int]:
    response = api.get(f"/api/v1/queue/?{query}")
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def both(client, triage_worker):
    client.force_login(triage_worker)
    api = APIClient()
    api.force_authenticate(triage_worker)
    return client, api


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["urgent", "young", "overdue", "other_school", "claimed"]),
        ("urgency=urgent", ["urgent"]),
        ("urgency=routine", ["overdue", "other_school", "claimed"]),
        ("school={other_school}", ["other_school"]),
        ("overdue=1", ["overdue"]),
        ("overdue=0", ["urgent", "young", "other_school", "claimed"]),
        ("mine=1", ["claimed"]),
        ("mine=0", ["urgent", "young", "overdue", "other_school"]),
        ("age_min=9", ["urgent", "overdue", "claimed"]),
        ("age_max=8", ["young", "other_school"]),
        ("age_min=8&age_max=9", ["overdue", "other_school"]),
        ("sort=submitted", ["overdue", "urgent", "young", "other_school", "claimed"]),
        ("sort=deadline", ["overdue", "urgent", "young", "other_school", "claimed"]),
        ("urgency=routine&sort=submitted&mine=0", ["overdue", "other_school"]),
    ],
)
def test_the_page_and_the_api_list_the_same_rows(both, queue, other_school, query, expected):
    client, api = both
    query = query.format(other_school=other_school.pk)
    rows = [queue[key] for key in expected]
    assert web_ids(client, query) == rows
    assert api_ids(api, query) == rows


@pytest.mark.parametrize(
    "query, field",
    [
        ("urgency=soon", "urgency"),
        ("school=abc", "school"),
        ("school={south_school}", "school"),  # a school of a district the worker does not triage
        ("overdue=yes", "overdue"),
        ("mine=2", "mine"),
        ("age_min=old", "age_min"),
        ("age_max=-1", "age_max"),
        ("age_max=300", "age_max"),
        ("sort=name", "sort"),
    ],
)
def test_an_unknown_value_is_refused_by_the_api_and_left_out_by_the_page(
    both, queue, south, query, field
):
    client, api = both
    south_school = AgencyFactory(name="Primary South", kind=Agency.Kind.SCHOOL, district=south)
    query = query.format(south_school=south_school.pk) + "&urgency=routine"
    if field == "urgency":
        query = query.replace("&urgency=routine", "")
    response = api.get(f"/api/v1/queue/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0]
    # The page applies the other filters and ignores the one it does not understand.
    without = "&".join(part for part in query.split("&") if not part.startswith(f"{field}="))
    assert web_ids(client, query) == web_ids(client, without)
    assert web_ids(client, query) != []


def test_the_api_queue_is_refused_before_its_filters_are_read(teacher):
    api = APIClient()
    api.force_authenticate(teacher)
    assert api.get("/api/v1/queue/?urgency=soon").status_code == 403
