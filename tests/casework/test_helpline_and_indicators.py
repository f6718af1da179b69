import pytest
from django.core.exceptions import PermissionDenied

from casework import services
from casework.models import Contact
from tests.conftest import protocol
from tests.factories import AgencyFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(north):
    point = AgencyFactory(name="Family point", kind="other", district=north)
    user = UserFactory(username="operator")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    return user


def test_operator_records_a_contact_with_the_services_pointed_to(client, operator, north):
    nursery = ServiceFactory(name="Nursery", district=north)
    client.force_login(operator)
    response = client.post(
        "/casework/helpline/",
        {
            "channel": "phone",
            "caller": "family",
            "category": "educational_services",
            "district": north.pk,
            "family_reference": "F-12",
            "question": "Nursery places?",
            "answer": "Call them",
            "services": [nursery.pk],
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get()
    assert list(contact.services.all()) == [nursery]
    row = contact.history.order_by("history_id").first()
    assert row.history_user == operator
    assert row.history_change_reason == "casework.contact.recorded"


def test_only_operators_log_contacts(client, teacher, triage_worker):
    for user in (teacher, triage_worker):
        client.force_login(user)
        assert client.get("/casework/helpline/").status_code == 403
        with pytest.raises(PermissionDenied):
            services.contact_record(actor=user, channel="phone", category="other", question="?")
    assert not Contact.objects.exists()


def test_supervisor_sees_the_yearly_indicators_of_the_district(
    client, supervisor, teacher, triage_worker, child, outsider
):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect", "absenteeism"],
        observations="x",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")
    client.force_login(supervisor)
    response = client.get("/casework/indicators/")
    assert response.status_code == 200
    report = response.context["report"]
    assert report["referrals"]["total"] == 1 and report["cases"]["opened"] == 1
    assert report["referrals"]["by_category"] == {"neglect": 1, "absenteeism": 1}
    # The South supervisor's figures do not include North.
    from tests.factories import AgencyFactory as Agency

    south_social = Agency(
        name="SS South", kind="social_services", district=outsider.memberships.get().agency.district
    )
    boss = UserFactory(username="boss_south")
    services.membership_create(actor=None, user=boss, agency=south_social, role="supervisor")
    client.force_login(boss)
    assert client.get("/casework/indicators/").context["report"]["referrals"]["total"] == 0
    client.force_login(teacher)
    assert client.get("/casework/indicators/").status_code == 403
