"""Every model that holds case data keeps a history row with the actor and a reason code."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.utils import timezone

from casework import models, services
from tests.factories import ServiceFactory


def _last(obj):
    return obj.history.order_by("-history_id").first()


@pytest.fixture
def case(child, triage_worker):
    case = models.Case(
        reference="N-1", child=child, district=child.district, lead_worker=triage_worker
    )
    services.audited_save(case, actor=triage_worker, reason="test.case")
    return case


@pytest.fixture
def every_object(north, school, teacher, triage_worker, child, case, mailing_categories):
    referral = services.referral_create_draft(actor=teacher, child=child)
    plan = models.CasePlan(case=case, objectives="Stay at school")
    services.audited_save(plan, actor=triage_worker, reason="test.plan")
    service = ServiceFactory(district=north)
    now = timezone.now()
    municipality = models.Municipality(code="town", name="Town")
    services.audited_save(municipality, actor=triage_worker, reason="test.audited.change")
    attachment = models.Attachment(
        referral=referral, title="Report", uploaded_by=teacher, token="tok-1"
    )
    attachment.file.save("x.txt", ContentFile(b"hello"), save=False)
    consultation = models.Consultation(
        asker=teacher,
        school=school,
        district=north,
        age_band="6-10",
        question="?",
        answer_due_at=now,
    )
    services.audited_save(consultation, actor=teacher, reason="test.audited.change")
    meeting = models.NetworkMeeting(
        district=north, held_on=now.date(), title="Network table", recorded_by=triage_worker
    )
    services.audited_save(meeting, actor=triage_worker, reason="test.audited.change")
    return [
        north,
        school,
        models.Membership.objects.get(user=teacher),
        child,
        child.guardians.get(),
        referral,
        models.InformationRequest(
            referral=referral, question="?", requested_by=triage_worker, due_at=now
        ),
        case,
        models.CaseTeamMember(
            case=case,
            user=teacher,
            agency=school,
            role="teacher",
            reason="r",
            added_by=triage_worker,
        ),
        plan,
        models.Action(plan=plan, objective="Homework club", owning_agency=school),
        models.Review(
            case=case,
            scheduled_for=now,
            risk_level="low",
            decision="continue",
            recorded_by=triage_worker,
        ),
        models.Note(case=case, author=triage_worker, body="Met the family"),
        attachment,
        service,
        models.Contact(
            operator=triage_worker, channel="phone", category="parenting", question="Nursery?"
        ),
        models.ProtocolSettings(pk=1),
        models.Referent(agency=school, topic="child_protection", name="Referent", phone="1"),
        models.HelplineHours(
            weekday=0, opens_at=datetime.time(9, 0), closes_at=datetime.time(12, 0)
        ),
        models.MailingCategory(code="parenting_courses", name="Parenting courses"),
        models.Mailing(
            category=models.MailingCategory.objects.get(code="family_support"),
            subject="News",
            author=triage_worker,
        ),
        consultation,
        models.ConsultationMessage(
            consultation=consultation, author=triage_worker, side="team", body="Call us"
        ),
        models.PatternAlert(
            district=north,
            cluster="child:1",
            window_start=now.date(),
            window_end=now.date(),
            item_count=3,
        ),
        meeting,
        models.MeetingAction(meeting=meeting, description="Map the nurseries", owner_agency=school),
        municipality,
        models.ProtocolVersion(municipality=municipality, number=1, valid_from=now.date()),
        models.CaseTransfer(
            case=case,
            kind="district",
            grounds="family_moved",
            reason="Moved",
            from_district=north,
            to_district=north,
            from_lead=triage_worker,
            requested_by=triage_worker,
        ),
        models.HandOver(
            case=case,
            to_school=school,
            transition="change_of_school",
            note="Quiet corner",
            basis="consent",
            consent_given_by="Mother",
            consent_given_on=now.date(),
            sent_by=triage_worker,
        ),
        services.api_client_create(
            actor=None, agency=school, name="School register", role="teacher", scopes=["read"]
        )[0],
        models.LegalHold(
            kind="case", object_id=case.pk, district=north, reason="Court", placed_by=triage_worker
        ),
        *_family_objects(case, child, school, triage_worker),
    ]


def _family_objects(case, child, school, worker):
    day = timezone.localdate()
    consent = models.Consent(
        case=case,
        purpose="share_agency",
        agency=school,
        given_by="Mother",
        given_on=day,
        how_obtained="signed",
        recorded_by=worker,
    )
    return [
        models.FamilyInformation(
            case=case,
            informed_on=day,
            informed_by=worker,
            informed_whom="Mother",
            what="The plan",
            channel="phone",
            language="Italian",
            recorded_by=worker,
        ),
        consent,
        models.Objection(
            case=case, raised_on=day, raised_by="Father", about="x", recorded_by=worker
        ),
        models.Sharing(
            case=case, agency=school, basis="consent", consent=consent, recorded_by=worker
        ),
        models.SubjectAccessRequest(
            child=child, requested_by="Mother", received_on=day, recorded_by=worker
        ),
        models.RectificationRequest(
            child=child,
            field="school_class",
            requested_value="5A",
            requested_by="Mother",
            received_on=day,
            recorded_by=worker,
        ),
    ]


def test_every_tracked_model_writes_history_with_actor_and_reason(every_object, triage_worker):
    seen = set()
    for obj in every_object:
        services.audited_save(obj, actor=triage_worker, reason="test.audited.change")
        row = _last(obj)
        assert row is not None, type(obj)
        assert row.history_user == triage_worker, type(obj)
        assert row.history_change_reason == "test.audited.change", type(obj)
        seen.add(type(obj))
    from django.apps import apps

    domain = {
        m
        for m in apps.get_app_config("casework").get_models()
        if not m.__name__.startswith("Historical")
        and not m.__name__.endswith("ObjectPermission")
        and "Historical" not in m.__name__
        and m is not models.Notification  # the outbox: delivery state, not case data
        and m is not models.AccessLog  # the read log: append-only itself
        and m is not models.TrailUnlock  # break-glass purposes: append-only themselves
        # The mailing list: a subscriber may ask for erasure, so no append-only copy of their
        # address is kept (their events are SubscriberEvent, without personal data); the
        # per-recipient deliveries are delivery state, like the outbox.
        and m not in (models.Subscriber, models.SubscriberEvent, models.MailingDelivery)
        # The purge's own registers: counts without personal data, written once, never changed.
        and m not in (models.PurgeRecord, models.RetainedFigure)
        # Sign-in sessions: Django's sessions with the user's id beside them, not case data.
        and m is not models.UserSession
    }
    assert all(hasattr(m, "history") for m in domain), "a domain model keeps no history"
    assert domain - seen == set(), "a tracked model has no history test"


def test_referral_draft_written_by_teacher_records_reason(teacher, child):
    referral = services.referral_create_draft(
        actor=teacher, child=child, concern_categories=["neglect"], urgency="priority"
    )
    row = referral.history.get()
    assert row.history_type == "+"
    assert row.history_user == teacher
    assert row.history_change_reason == "casework.referral.drafted"
    assert referral.district == child.district
    assert referral.urgency_rank == 2


def test_draft_update_keeps_a_before_and_after(teacher, child):
    referral = services.referral_create_draft(actor=teacher, child=child, observations="A")
    services.referral_update_draft(actor=teacher, referral=referral, observations="B")
    new, old = referral.history.order_by("-history_id")[:2]
    delta = new.diff_against(old)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("observations", "A", "B")]
    assert new.history_change_reason == "casework.referral.draft_updated"


def test_only_the_author_updates_a_draft(teacher, other_teacher, child):
    referral = services.referral_create_draft(actor=teacher, child=child)
    with pytest.raises(PermissionDenied):
        services.referral_update_draft(actor=other_teacher, referral=referral, observations="X")
    assert referral.history.count() == 1


def test_bad_draft_changes_nothing(teacher, child):
    referral = services.referral_create_draft(actor=teacher, child=child)
    with pytest.raises(ValidationError) as error:
        services.referral_update_draft(
            actor=teacher, referral=referral, concern_categories=["astrology"]
        )
    assert "concern_categories" in error.value.message_dict
    referral.refresh_from_db()
    assert referral.concern_categories == []
    assert referral.history.count() == 1


def test_social_worker_cannot_write_a_referral(triage_worker, child):
    with pytest.raises(PermissionDenied):
        services.referral_create_draft(actor=triage_worker, child=child)
    assert not models.Referral.objects.exists()


def test_admin_change_records_the_request_user_and_a_reason(client, north):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        f"/admin/casework/district/{north.pk}/change/",
        {"code": north.code, "name": "North renamed", "on_duty_phone": "", "on_duty_user": ""},
    )
    assert response.status_code == 302, response.content[:500]
    row = _last(north)
    assert row.name == "North renamed"
    assert row.history_user == admin
    assert row.history_change_reason == "casework.admin.district.changed"


def test_membership_opens_and_closes_the_district_scope(triage_worker, north, south):
    from casework import permissions

    assert list(permissions.districts_for(triage_worker)) == [north]
    membership = models.Membership.objects.get(user=triage_worker)
    services.membership_deactivate(actor=None, membership=membership)
    triage_worker = type(triage_worker).objects.get(pk=triage_worker.pk)
    assert list(permissions.districts_for(triage_worker)) == []
    assert _last(membership).history_change_reason == "casework.membership.deactivated"


def test_child_age_is_computed_from_birth(child):
    today = datetime.date.today()  # noqa: DTZ011
    assert child.age in {today.year - 2016 - 1, today.year - 2016}


def test_every_model_has_an_admin_page(client, db):
    from django.apps import apps
    from django.contrib import admin

    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    for model in apps.get_app_config("casework").get_models():
        if model.__name__.startswith("Historical") or model.__name__.endswith("Permission"):
            continue
        if model is models.UserSession:
            # Sessions hold sign-in state; nobody reads them in the admin (Django has no
            # admin page for its own sessions either).
            assert model not in admin.site._registry
            continue
        assert model in admin.site._registry, model.__name__
        url = f"/admin/casework/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url


def test_the_access_log_cannot_be_edited_in_the_admin(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get("/admin/casework/accesslog/add/").status_code == 403
