"""Who to call, through the API: every member reads the active referents; an agency's
keepers add and change their own agency's, and nobody else's."""

from casework.models import Referent


def test_a_keeper_adds_and_changes_their_agencys_referent(api, supervisor, social_north):
    client = api(supervisor)
    response = client.post(
        "/api/v1/referents/",
        {
            "agency": social_north.pk,
            "topic": Referent.Topic.values[0],
            "name": " Dr Rossi ",
            "email": "rossi@example.org",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert response.json()["name"] == " Dr Rossi "  # kept as sent
    changed = client.patch(f"/api/v1/referents/{pk}/", {"phone": "+39 011"}, format="json")
    assert changed.status_code == 200 and changed.json()["phone"] == "+39 011"
    referent = Referent.objects.get(pk=pk)
    reasons = [row.history_change_reason for row in referent.history.order_by("history_id")]
    assert reasons == ["casework.referent.created", "casework.referent.updated"]


def test_another_agencys_referent_is_refused(api, supervisor, outsider, teacher, social_north):
    referent = Referent.objects.create(
        agency=social_north, topic=Referent.Topic.values[0], name="Dr Rossi", phone="+39 1"
    )
    # Not a keeper at all: 403; a keeper of another agency: 403 on create, 404 on change.
    refused = api(teacher).post(
        "/api/v1/referents/",
        {"agency": social_north.pk, "topic": Referent.Topic.values[0], "name": "X"},
        format="json",
    )
    assert refused.status_code == 403
    assert api(teacher).patch(f"/api/v1/referents/{referent.pk}/", {"name": "X"}).status_code == 403
    assert api(supervisor).post(
        "/api/v1/referents/",
        {"agency": social_north.pk, "topic": "nope", "name": "X", "extra": 1},
        format="json",
    ).json().keys() == {"topic", "extra"}
    referent.refresh_from_db()
    assert referent.name == "Dr Rossi" and Referent.objects.count() == 1
    # Every member reads it.
    for reader in (teacher, outsider):
        listed = api(reader).get("/api/v1/referents/")
        assert [row["id"] for row in listed.json()["results"]] == [referent.pk]
        assert api(reader).get(f"/api/v1/referents/{referent.pk}/").status_code == 200


def test_a_keeper_of_another_agency_cannot_create_there(api, school_referent, social_north):
    response = api(school_referent).post(
        "/api/v1/referents/",
        {"agency": social_north.pk, "topic": Referent.Topic.values[0], "name": "X"},
        format="json",
    )
    assert response.status_code == 403
    assert not Referent.objects.exists()


def test_a_stranger_reads_no_referent(api, stranger, social_north):
    referent = Referent.objects.create(
        agency=social_north, topic=Referent.Topic.values[0], name="Dr Rossi", phone="+39 1"
    )
    assert api(stranger).get("/api/v1/referents/").status_code == 403
    assert api(stranger).get(f"/api/v1/referents/{referent.pk}/").status_code == 403
