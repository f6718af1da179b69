"""The directory through the API: everyone signed in reads it; a district's network
coordinators add and change its entries, and no other district's."""

import pytest

from casework import services
from casework.models import Service
from tests.factories import AgencyFactory, UserFactory


def _member(username, agency, role):
    user = UserFactory(username=username)
    services.membership_create(actor=None, user=user, agency=agency, role=role)
    return user


@pytest.fixture
def coordinator(north):
    point = AgencyFactory(name="Family point", kind="other", district=north)
    return _member("alice", point, "network_coordinator")


@pytest.fixture
def south_coordinator(south):
    point = AgencyFactory(name="Family point South", kind="other", district=south)
    return _member("charlie", point, "network_coordinator")


ENTRY = {"name": "Homework club", "kind": Service.Kind.values[0], "district": "north"}


def test_a_coordinator_adds_and_changes_an_entry(api, coordinator):
    client = api(coordinator)
    response = client.post("/api/v1/services/", {**ENTRY, "min_age": 6}, format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    changed = client.patch(
        f"/api/v1/services/{pk}/", {"hours": "Mon 15-18", "active": False}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    entry = Service.objects.get(pk=pk)
    assert entry.hours == "Mon 15-18" and not entry.active
    reasons = [row.history_change_reason for row in entry.history.order_by("history_id")]
    assert reasons == ["casework.service.created", "casework.service.withdrawn"]
    # Withdrawn: off the directory for readers, still the keeper's.
    assert client.get(f"/api/v1/services/{pk}/").status_code == 200


def test_others_cannot_write_the_directory(api, coordinator, south_coordinator, teacher, service):
    assert api(teacher).post("/api/v1/services/", ENTRY, format="json").status_code == 403
    assert api(teacher).patch(f"/api/v1/services/{service.pk}/", {"name": "X"}).status_code == 403
    # A coordinator of the south: not the north's entries, nor a new one in the north.
    other = api(south_coordinator)
    assert other.patch(f"/api/v1/services/{service.pk}/", {"name": "X"}).status_code == 404
    assert other.post("/api/v1/services/", ENTRY, format="json").status_code == 403
    refused = api(coordinator).post(
        "/api/v1/services/", {**ENTRY, "min_age": 12, "max_age": 3, "id": 5}, format="json"
    )
    assert refused.status_code == 400 and "id" in refused.json()
    service.refresh_from_db()
    assert service.name == "Family centre North"
    assert Service.objects.count() == 1
    assert api(teacher).get(f"/api/v1/services/{service.pk}/").json()["id"] == service.pk


def test_the_keepers_list_holds_withdrawn_entries_and_is_theirs_alone(
    api, coordinator, south_coordinator, teacher, service
):
    withdrawn = api(coordinator).post(
        "/api/v1/services/", {**ENTRY, "name": "Old club", "active": False}, format="json"
    )
    assert withdrawn.status_code == 201, withdrawn.json()
    response = api(coordinator).get("/api/v1/services/kept/")
    assert response.status_code == 200
    names = [row["name"] for row in response.json()["results"]]
    assert names == ["Family centre North", "Old club"]
    # The public directory leaves the withdrawn entry out.
    public = [row["name"] for row in api(teacher).get("/api/v1/services/").json()["results"]]
    assert "Old club" not in public
    # Another district's keeper sees only their own (none); a teacher keeps nothing: 403.
    assert api(south_coordinator).get("/api/v1/services/kept/").json()["results"] == []
    refused = api(teacher).get("/api/v1/services/kept/")
    assert refused.status_code == 403 and refused.json()["detail"]
