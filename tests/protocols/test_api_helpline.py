"""The helpline's contact log and a supervisor's escalations, through the API: who records,
who reads what, and who is refused."""

import pytest

from casework import services
from casework.models import AccessLog, Agency, Contact
from tests.conftest import protocol
from tests.factories import AgencyFactory, UserFactory

CONTACT = {
    "channel": "phone",
    "caller": "family",
    "age_band": "6-10",
    "category": "parenting",
    "question": "  Where can we find help with homework?\n",
}


@pytest.fixture
def operator(north):
    point = AgencyFactory(name="Helpline", kind=Agency.Kind.OTHER, district=north)
    user = UserFactory(username="operator")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    return user


def test_an_operator_records_and_reads_contacts(api, operator, north, service):
    client = api(operator)
    response = client.post(
        "/api/v1/contacts/",
        {**CONTACT, "district": "north", "services": [service.pk], "family_reference": "F-12"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["question"] == CONTACT["question"]  # kept as sent
    assert body["district"] == "north" and body["services"] == [service.pk]
    contact = Contact.objects.get(pk=body["id"])
    assert contact.operator == operator
    assert contact.history.latest().history_change_reason in (
        "casework.contact.recorded",
        "casework.contact.services_pointed",
    )
    listed = client.get("/api/v1/contacts/")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [contact.pk]


def test_a_contact_with_bad_input_writes_nothing(api, operator):
    client = api(operator)
    response = client.post(
        "/api/v1/contacts/",
        {**CONTACT, "district": "atlantis", "channel": "pigeon", "operator": 1},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"district", "channel", "operator"}
    assert not Contact.objects.exists()


def test_supervisors_read_their_districts_contacts_and_cannot_record(
    api, operator, supervisor, outsider, teacher, south
):
    services.contact_record(actor=operator, channel="phone", category="health", question="Q1")
    services.contact_record(
        actor=operator, channel="phone", category="health", question="Q2", district=south
    )
    client = api(supervisor)
    rows = client.get("/api/v1/contacts/").json()["results"]
    assert [row["question"] for row in rows] == ["Q1"]  # no district: the network's
    assert client.post("/api/v1/contacts/", CONTACT, format="json").status_code == 403
    for refused in (teacher, outsider):
        assert api(refused).get("/api/v1/contacts/").status_code == 403
    assert Contact.objects.count() == 2


def test_a_supervisor_lists_the_escalations_of_their_districts(
    api, supervisor, triage_worker, teacher, child, outsider
):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Bruises",
        family_informed=False,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    escalated = protocol("referral.decide")(
        referral=referral,
        actor=triage_worker,
        decision="escalate",
        target="juvenile_court",
        reason="Suspected abuse",
    )
    response = api(supervisor).get("/api/v1/escalations/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["id"] for row in rows] == [escalated.pk]
    assert "observations" not in rows[0]  # a list line: the detail has the texts
    assert AccessLog.objects.filter(user=supervisor, action="referral.list").exists()
    assert api(supervisor).get("/api/v1/escalations/?days=0").status_code == 400
    for refused in (triage_worker, teacher, outsider):
        assert api(refused).get("/api/v1/escalations/").status_code == 403
