"""The objects the permission matrix is run against, built once per module.

Every persona of tests/conftest.py (same usernames, same agencies), plus an auditor and a
superuser; one referral of the teacher in each state of the protocol; an open case (with the
psychologist on its team and a review due) and a closed one; an attachment on the case and one
on the draft; and one row of every model that the admin serves, so that every admin URL can be
filled with a real id.

Who should see what is computed here from these facts by the rules of DESIGN.md ("Access and
audit"), never by calling casework.selectors: the matrix compares the app against the design.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import time_machine
from axes import models as axes
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from viewflow.workflow.models import Task
from viewflow.workflow.timers import fire_due_timers

from casework import services
from casework.models import (
    AccessLog,
    Agency,
    Attachment,
    Case,
    CaseTeamMember,
    Contact,
    Membership,
    Note,
    Notification,
    ProtocolSettings,
    PurgeRecord,
    Referent,
    Referral,
    RetainedFigure,
    Service,
)
from protocols import steps
from protocols.flows import CaseFlow, ReferralFlow
from tests.conftest import protocol
from tests.factories import AgencyFactory, DistrictFactory, ServiceFactory, UserFactory

ANONYMOUS = "anonymous"
ADMIN = "admin"
PERSONAS = [
    "teacher",
    "school_referent",
    "other_teacher",
    "triage_worker",
    "supervisor",
    "psychologist",
    "outsider",
    "stranger",
    "auditor",
    # Access over time: a social worker of the north whose role ended (she sat on the open
    # case's team); a psychologist whose seat on that team expired (his role goes on); a
    # worker deactivated and reactivated, holding the session and API token from before.
    "former_worker",
    "expired_member",
    "reactivated",
    ANONYMOUS,
    ADMIN,
]
# Personas whose only credentials are dead: every page sends them to sign in, the API says 401.
DEAD_CREDENTIALS = {"reactivated"}

# One referral of the teacher per state; "case_closed" is the referral whose case was closed.
REFERRAL_KEYS = [
    "draft",
    "awaiting_validation",
    "submitted",
    "in_triage",
    "information_requested",
    "case_opened",
    "no_further_action",
    "escalated",
    "case_closed",
]
CASE_KEYS = ["open", "closed"]
NOT_YET_SENT = {"draft", "awaiting_validation"}
QUEUE_STATUSES = {"submitted", "in_triage", "information_requested"}

# The tasks each flow node URL is filled with: (variant label, object key, task status); the
# task that is still open where there is one (new, and assigned for the triage, whose assign
# and unassign pages differ). Built by build_world(), which checks that each one exists.
REFERRAL_TASKS = {
    "start": [("done", "submitted", "DONE")],
    "needs_validation": [("done", "submitted", "DONE")],
    "validate": [("new", "awaiting_validation", "NEW")],
    "triage": [("new", "submitted", "NEW"), ("assigned", "in_triage", "ASSIGNED")],
    "decision": [("done", "no_further_action", "DONE")],
    # Assigned to the referrer, who alone answers.
    "await_information": [("assigned", "information_requested", "ASSIGNED")],
    "open_case": [("done", "case_opened", "DONE")],
    "feedback": [("done", "escalated", "DONE")],
    "end": [("done", "escalated", "DONE")],
}
CASE_TASKS = {
    "start": [("done", "open", "DONE")],
    "plan": [("done", "open", "DONE")],
    "wait_review": [("done", "open", "DONE")],
    "review": [("new", "open", "NEW")],
    "review_outcome": [("done", "closed", "DONE")],
    "approve_closure": [("done", "closed", "DONE")],
    "closure_outcome": [("done", "closed", "DONE")],
    "end": [("done", "closed", "DONE")],
}
FLOW_TASKS = {"referral": REFERRAL_TASKS, "case": CASE_TASKS}
# Process-level flow URLs are filled with one running and one finished process of each flow.
FLOW_PROCESSES = {"referral": ["submitted", "escalated"], "case": ["open", "closed"]}
FLOW_CLASSES = {"referral": ReferralFlow, "case": CaseFlow}

FORM = {
    "concern_categories": ["neglect"],
    "observations": "Often hungry in the morning.",
    "family_informed": True,
    "urgency": "priority",
}


def pdf(name="report.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 " + b"x" * 32, content_type="application/pdf")


@dataclass
class ReferralFacts:
    pk: int
    state: str  # the key in REFERRAL_KEYS
    status: str
    referrer: str
    school: str
    district: str
    case: str | None  # the key in CASE_KEYS
    claimed_by: str | None  # the persona who claimed it for triage


@dataclass
class CaseFacts:
    pk: int
    status: str
    district: str
    lead: str
    team: set[str]  # personas on the team today (lead included)


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)  # and their agencies, districts
    referrals: dict[str, ReferralFacts] = field(default_factory=dict)
    cases: dict[str, CaseFacts] = field(default_factory=dict)
    # symbol -> concrete value for URL filling (see tests/security/routes.py)
    symbols: dict[str, str] = field(default_factory=dict)
    # persona -> facts about their scopes, as DESIGN.md describes them
    referent_school: dict[str, str] = field(default_factory=dict)
    triage_district: dict[str, str] = field(default_factory=dict)
    supervised_district: dict[str, str] = field(default_factory=dict)
    notification_recipient: str = "teacher"
    sessions: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # API tokens made before a change
    fingerprint: tuple = ()

    # --- the rules of DESIGN.md "Access and audit" --------------------------------------

    def sees_referral(self, persona: str, key: str) -> bool:
        """The referrer sees their referral; the school's referent sees the school's referrals
        once sent (a draft is its author's alone); the district's triage team and supervisors see
        what reached the district; the case team sees the referrals of its case."""
        r = self.referrals[key]
        if persona == ADMIN:  # the installation's administrator: no team, no case data
            return False
        if r.referrer == persona:
            return True
        if self.referent_school.get(persona) == r.school and r.state != "draft":
            return True
        districts = {self.triage_district.get(persona), self.supervised_district.get(persona)}
        if r.district in districts and r.state not in NOT_YET_SENT:
            return True
        return r.case is not None and persona in self.cases[r.case].team

    def in_queue(self, persona: str, key: str) -> bool:
        r = self.referrals[key]
        if persona == ADMIN:
            return False
        districts = {self.triage_district.get(persona), self.supervised_district.get(persona)}
        return r.district in districts and r.status in QUEUE_STATUSES

    def sees_case(self, persona: str, key: str) -> bool:
        """The case team sees the case; the district's supervisors see the district's cases."""
        if persona == ADMIN:
            return False
        c = self.cases[key]
        return persona in c.team or self.supervised_district.get(persona) == c.district

    def visible_referral_ids(self, persona: str) -> set[int]:
        return {r.pk for key, r in self.referrals.items() if self.sees_referral(persona, key)}

    def visible_case_ids(self, persona: str) -> set[int]:
        return {c.pk for key, c in self.cases.items() if self.sees_case(persona, key)}

    def queue_ids(self, persona: str) -> set[int]:
        return {r.pk for key, r in self.referrals.items() if self.in_queue(persona, key)}

    def user(self, persona: str):
        if persona == ANONYMOUS:
            return None
        return get_user_model().objects.get(pk=self.users[persona].pk)


def _member(username, agency, role):
    user = UserFactory(username=username)
    services.membership_create(actor=None, user=user, agency=agency, role=role)
    return user


def _task(flow_class, obj, node):
    return (
        Task.objects.filter(
            process__flow_class=flow_class,
            process__artifact_content_type=ContentType.objects.get_for_model(obj),
            process__artifact_object_id=obj.pk,
            flow_task=node,
        )
        .order_by("-pk")
        .first()
    )


def build_world() -> World:
    world = World()
    start = timezone.now()
    # Everything happens five weeks ago, so that the first periodic review (4 weeks for high
    # risk) is due today: the open case has a review task waiting, the closed case went through.
    with time_machine.travel(start - datetime.timedelta(weeks=5)):
        u = _build_people(world)
        referrals, cases = _build_referrals(world, u)
    assert fire_due_timers() == 2
    _change_over_time(world, u)
    closed = cases["closed"]
    steps.closure(case=closed, actor=u["triage_worker"], reason="Meals are regular now")
    closed.refresh_from_db()
    steps.closure(case=closed, actor=u["supervisor"], approve=True)
    _build_transfer(world, u, cases)
    _record_facts(world, referrals, cases)
    _build_symbols(world, u, referrals, cases)
    return world


def _build_transfer(world: World, u: dict, cases: dict) -> None:
    """The open case's lead asked South to take it over (the family moved); South's supervisor
    (no persona: nobody of the matrix may decide it) has not answered yet."""
    south_social = Agency.objects.get(name="Social services South")
    _member("coord_south", south_social, Membership.Role.SUPERVISOR)
    transfer = services.case_transfer_request(
        actor=u["triage_worker"],
        case=cases["open"],
        to_district=u["south"],
        grounds="family_moved",
        reason="The family moved to South",
    )
    world.symbols["transfer:pending"] = str(transfer.pk)
    # The open case's lead sent a hand-over note to the Rodari school (the child moves up).
    handover = services.handover_send(
        actor=u["triage_worker"],
        case=cases["open"],
        to_school=u["school"],
        transition="preschool_to_primary",
        note="Needs a quiet corner in the morning",
        basis="consent",
        consent_given_by="Anna Bruno (mother)",
        consent_given_on=timezone.localdate(),
    )
    world.symbols["handover:sent"] = str(handover.pk)
    # A municipality's protocol version (its districts are not the world's: no persona is
    # its protocol administrator, and the world's protocol stays the installation's default).
    from casework.models import Municipality, ProtocolVersion

    municipality = Municipality.objects.create(code="elsewhere", name="Elsewhere")
    version = ProtocolVersion.objects.create(
        municipality=municipality, number=1, valid_from=datetime.date(2020, 1, 1)
    )
    world.symbols["protocolversion:current"] = str(version.pk)


def _change_over_time(world: World, u: dict) -> None:
    """Today: the former worker's role ended (by the services, as an administrator does); the
    expired member's seat ran out a month ago (no sweep has run since); the reactivated worker
    signed in and made an API token, was deactivated, then reactivated."""
    for membership in Membership.objects.filter(user=u["former_worker"], active=True):
        services.membership_deactivate(actor=None, membership=membership)
    back = u["reactivated"]
    client = Client()
    client.force_login(back)
    world.sessions["reactivated"] = client.cookies[settings.SESSION_COOKIE_NAME].value
    _token, world.tokens["reactivated"] = AuthToken.objects.create(user=back)
    back.is_active = False
    back.save()
    back.is_active = True
    back.save()


def _build_people(world: World) -> dict:
    north = DistrictFactory(code="north", name="North")
    south = DistrictFactory(code="south", name="South")
    school = AgencyFactory(
        name="Primary Rodari",
        kind=Agency.Kind.SCHOOL,
        district=north,
        requires_referent_validation=True,
    )
    other_school = AgencyFactory(name="Primary Collodi", kind=Agency.Kind.SCHOOL, district=north)
    social_north = AgencyFactory(
        name="Social services North", kind=Agency.Kind.SOCIAL_SERVICES, district=north
    )
    social_south = AgencyFactory(
        name="Social services South", kind=Agency.Kind.SOCIAL_SERVICES, district=south
    )
    health_north = AgencyFactory(name="UONPIA North", kind=Agency.Kind.HEALTH, district=north)
    u = {
        "teacher": _member("maestra", school, Membership.Role.TEACHER),
        "school_referent": _member("referente", school, Membership.Role.SCHOOL_REFERENT),
        "other_teacher": _member("maestro", other_school, Membership.Role.TEACHER),
        "triage_worker": _member("as_north", social_north, Membership.Role.SOCIAL_WORKER),
        "supervisor": _member("coord_north", social_north, Membership.Role.SUPERVISOR),
        "psychologist": _member("psy_north", health_north, Membership.Role.PSYCHOLOGIST),
        "outsider": _member("as_south", social_south, Membership.Role.SOCIAL_WORKER),
        "stranger": UserFactory(username="stranger"),
        "auditor": _member("dpo", school, Membership.Role.AUDITOR),
        "former_worker": _member("as_former", social_north, Membership.Role.SOCIAL_WORKER),
        "expired_member": _member("psy_expired", health_north, Membership.Role.PSYCHOLOGIST),
        "reactivated": _member("as_back", social_north, Membership.Role.SOCIAL_WORKER),
        ADMIN: get_user_model().objects.create_superuser("admin", "admin@example.org", "pw"),
    }
    world.users = u
    world.referent_school = {"school_referent": "school"}
    world.triage_district = {"triage_worker": "north", "supervisor": "north", "outsider": "south"}
    world.supervised_district = {"supervisor": "north"}
    u.update(
        north=north,
        south=south,
        school=school,
        social_north=social_north,
        health_north=health_north,
    )
    ServiceFactory(name="Family centre North", district=north, min_age=3, max_age=14)
    return u


def _build_referrals(world: World, u: dict):
    teacher, referent, worker = u["teacher"], u["school_referent"], u["triage_worker"]
    referrals, cases = {}, {}
    for number, key in enumerate(REFERRAL_KEYS):
        child = services.child_create(
            actor=teacher,
            first_name=f"Child{number}",
            last_name=f"Bruno{number}",
            date_of_birth=datetime.date(2016, 3, 2),
            district=u["north"],
            school=u["school"],
            guardians=[{"name": "Anna Bruno", "relationship": "mother", "phone": "+39 000"}],
        )
        referral = services.referral_create_draft(actor=teacher, child=child, **FORM)
        if key != "draft":
            protocol("referral.submit")(referral=referral, actor=teacher)
        if key not in NOT_YET_SENT:
            protocol("referral.validate")(
                referral=Referral.objects.get(pk=referral.pk), actor=referent
            )
        fresh = Referral.objects.get(pk=referral.pk)
        if key in ("in_triage", "information_requested"):
            protocol("referral.claim")(referral=fresh, actor=worker)
        decision = {
            "information_requested": {"decision": "request_information", "question": "Since?"},
            "no_further_action": {"decision": "no_further_action", "reason": "School copes"},
            "escalated": {"decision": "escalate", "target": "police", "reason": "Bruises"},
            "case_opened": {"decision": "open_case", "risk_level": "high", "feedback": "We call"},
            "case_closed": {"decision": "open_case", "risk_level": "high"},
        }.get(key)
        if decision:
            protocol("referral.decide")(
                referral=Referral.objects.get(pk=referral.pk), actor=worker, **decision
            )
        referrals[key] = Referral.objects.get(pk=referral.pk)
    cases["open"] = referrals["case_opened"].case
    cases["closed"] = referrals["case_closed"].case
    for case in cases.values():
        protocol("case.plan")(case=case, actor=worker, objectives="Regular meals")
    open_case = cases["open"]
    services.case_add_member(
        actor=worker,
        case=open_case,
        user=u["psychologist"],
        agency=u["health_north"],
        role="psychologist",
        reason="Assessment of the child's wellbeing",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    services.case_add_member(
        actor=worker,
        case=open_case,
        user=u["former_worker"],
        agency=u["social_north"],
        role="social_worker",
        reason="Home visits",
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    services.case_add_member(
        actor=worker,
        case=open_case,
        user=u["expired_member"],
        agency=u["health_north"],
        role="psychologist",
        reason="A first assessment",
        valid_until=timezone.localdate() + datetime.timedelta(days=7),
        legal_basis="public_task",
        basis_explanation="Child-protection task of the municipality",
    )
    services.case_add_action(
        actor=worker,
        case=open_case,
        objective="Psychological assessment",
        owning_agency=u["health_north"],
        owner=u["psychologist"],
    )
    services.attachment_add(actor=worker, upload=pdf(), title="School report", case=open_case)
    services.attachment_add(
        actor=teacher, upload=pdf("drawing.pdf"), title="Drawing", referral=referrals["draft"]
    )
    # A break-glass reading, long expired by today (the world is built five weeks ago).
    services.trail_unlock(
        actor=u["auditor"],
        case=open_case,
        purpose="quality",
        explanation="Quality review of the service, sample 2026",
    )
    # The family's consent and an objection on the open case; a subject access request and a
    # rectification request about its child (the DPO's pages).
    services.consent_record(
        actor=worker,
        case=open_case,
        purpose="share_agency",
        agency=u["health_north"],
        given_by="The mother",
        given_on=timezone.localdate(),
        how_obtained="signed",
    )
    services.case_record_family_information(
        actor=worker,
        case=open_case,
        informed_on=timezone.localdate(),
        informed_whom="The mother",
        what="Why the case was opened",
        channel="in_person",
        language="Italian",
    )
    services.objection_record(
        actor=worker,
        case=open_case,
        raised_on=timezone.localdate(),
        raised_by="The father",
        about="The school is told too much.",
    )
    services.subject_access_record(
        actor=u["auditor"],
        child=open_case.child,
        requested_by="The mother",
        received_on=timezone.localdate(),
    )
    services.rectification_request_record(
        actor=u["auditor"],
        child=open_case.child,
        field="school_class",
        requested_value="5A",
        requested_by="The mother",
        received_on=timezone.localdate(),
    )
    note = Note(case=open_case, author=worker, body="Met the mother.")
    services.audited_save(note, actor=worker, reason="test.note.added")
    contact = Contact(
        operator=u[ADMIN],
        channel=Contact.Channel.PHONE,
        district=u["north"],
        category=Contact.Category.PARENTING,
        question="Where is the family centre?",
    )
    services.audited_save(contact, actor=u[ADMIN], reason="test.contact.added")
    # The mailing list: a confirmed subscriber and a mailing sent to them (admin pages).
    from casework.models import Mailing, MailingCategory

    category = MailingCategory.objects.get(code="family_support")
    subscriber = services.subscriber_request(
        kind="family", email="family@example.org", categories=[category], consent_text="ok"
    )
    services.subscriber_confirm(subscriber=subscriber)
    mailing = Mailing(category=category, subject="News", body="x", author=u[ADMIN])
    services.audited_save(mailing, actor=u[ADMIN], reason="test.mailing.written")
    mailing.deliveries.create(subscriber=subscriber, status="sent", sent_at=timezone.now())
    return referrals, cases


def _record_facts(world: World, referrals: dict, cases: dict) -> None:
    by_user = {user.pk: persona for persona, user in world.users.items() if persona in PERSONAS}
    school_key = {world.users["school"].pk: "school"}
    case_key = {case.pk: key for key, case in cases.items()}
    today = timezone.localdate()
    for key, case in cases.items():
        case.refresh_from_db()
        team = {
            by_user[m.user_id]
            for m in CaseTeamMember.objects.filter(case=case, removed_at__isnull=True)
            if m.valid_until is None or m.valid_until >= today
        }
        world.cases[key] = CaseFacts(
            pk=case.pk,
            status=case.status,
            district=case.district.code,
            lead=by_user[case.lead_worker_id],
            team=team,
        )
    assert world.cases["open"].status == Case.Status.OPEN
    assert world.cases["closed"].status == Case.Status.CLOSED
    assert world.cases["open"].team == {"triage_worker", "psychologist"}
    for key, referral in referrals.items():
        referral.refresh_from_db()
        world.referrals[key] = ReferralFacts(
            pk=referral.pk,
            state=key,
            status=referral.status,
            referrer=by_user[referral.referrer_id],
            school=school_key.get(referral.school_id, "other"),
            district=referral.district.code,
            case=case_key.get(referral.case_id),
            claimed_by=by_user.get(referral.claimed_by_id),
        )
        expected = {"case_closed": "case_opened"}.get(key, key)
        assert referral.status == expected, (key, referral.status)


def _build_symbols(world: World, u: dict, referrals: dict, cases: dict) -> None:
    """The concrete value of every symbol that tests/security/routes.py fills URLs with."""
    s = world.symbols
    for key, referral in referrals.items():
        s[f"referral:{key}"] = str(referral.pk)
    for key, case in cases.items():
        s[f"case:{key}"] = str(case.pk)
    open_case = cases["open"]
    s["action:open"] = str(open_case.plan.actions.get().pk)
    s["member:open"] = str(open_case.team.get(user=u["psychologist"]).pk)
    s["attachment:case"] = str(Attachment.objects.get(case=open_case).pk)
    from casework.models import RectificationRequest, SubjectAccessRequest

    s["consent:open"] = str(open_case.consents.get().pk)
    s["objection:open"] = str(open_case.objections.get().pk)
    s["sar:one"] = str(SubjectAccessRequest.objects.get().pk)
    s["rectification:one"] = str(RectificationRequest.objects.get().pk)
    s["attachment:draft"] = str(Attachment.objects.get(referral=referrals["draft"]).pk)
    notification = (
        Notification.objects.filter(recipient=u[world.notification_recipient])
        .order_by("pk")
        .first()
    )
    s["notification:teacher"] = str(notification.pk)
    s["service:north"] = str(Service.objects.filter(district=u["north"]).order_by("pk").first().pk)
    s["referent:north"] = str(
        Referent.objects.create(
            agency=u["social_north"], topic="on_duty", name="On duty", phone="+39 1"
        ).pk
    )
    s["hold:north"] = str(
        services.legal_hold_place(
            actor=u["supervisor"], kind="case", object_id=open_case.pk, reason="Court"
        ).pk
    )
    _build_around_the_referral(s, u, referrals)
    objects = {"referral": referrals, "case": cases}
    for flow, nodes in FLOW_TASKS.items():
        flow_class = FLOW_CLASSES[flow]
        for node, variants in nodes.items():
            for label, key, status in variants:
                task = _task(flow_class, objects[flow][key], getattr(flow_class, node))
                assert task is not None and task.status == status, (flow, node, key, task)
                s[f"task:{flow}.{node}.{label}"] = str(task.pk)
                s[f"taskprocess:{flow}.{node}.{label}"] = str(task.process_id)
        for key in FLOW_PROCESSES[flow]:
            s[f"process:{flow}.{key}"] = str(_process(flow_class, objects[flow][key]).pk)
    _admin_symbols(world, u, referrals, cases)


def _process(flow_class, obj):
    return flow_class.process_class.objects.get(
        flow_class=flow_class,
        artifact_content_type=ContentType.objects.get_for_model(obj),
        artifact_object_id=obj.pk,
    )


def _build_around_the_referral(s: dict, u: dict, referrals: dict) -> None:
    """The teacher's consultation (answered by the north's triage worker), a pattern alert of
    the north, and a network meeting of the north with one agreed action (its supervisor)."""
    from casework.models import NetworkMeeting, PatternAlert

    consultation = services.consultation_ask(
        actor=u["teacher"], age_band="6-10", concern_categories=["neglect"], question="Hungry?"
    )
    services.consultation_write(actor=u["triage_worker"], consultation=consultation, body="Call")
    s["consultation:asked"] = str(consultation.pk)
    today = timezone.localdate()
    alert = PatternAlert(
        district=u["north"],
        cluster="child:matrix",
        window_start=today,
        window_end=today,
        item_count=2,
    )
    services.audited_save(alert, actor=None, reason="casework.pattern_alert.raised")
    alert.referrals.set([referrals["submitted"], referrals["no_further_action"]])
    s["alert:north"] = str(alert.pk)
    meeting = services.meeting_save(
        actor=u["supervisor"],
        meeting=NetworkMeeting(district=u["north"], held_on=today, title="Network table"),
        agencies=[u["school"], u["social_north"]],
    )
    action = services.meeting_action_add(
        actor=u["supervisor"], meeting=meeting, description="Map", owner_agency=u["school"]
    )
    s["meeting:north"] = str(meeting.pk)
    s["meetingaction:north"] = str(action.pk)


def _admin_symbols(world: World, u: dict, referrals: dict, cases: dict) -> None:
    """One row of every model the admin serves; the most sensitive one where there is a choice
    (the open case and its records, the teacher's account)."""
    from django.contrib import admin
    from django_celery_beat import models as beat
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from knox.models import AuthToken

    s = world.symbols
    now = timezone.now()
    interval = beat.IntervalSchedule.objects.create(every=60, period="seconds")
    beat.CrontabSchedule.objects.create(minute="0", hour="3")
    beat.SolarSchedule.objects.create(event="sunrise", latitude="45.46", longitude="9.19")
    beat.ClockedSchedule.objects.create(clocked_time=now)
    beat.PeriodicTask.objects.create(name="matrix", task="casework.tasks.x", interval=interval)
    AuthToken.objects.create(user=u["teacher"])
    # A second factor with its backup codes (django-otp), for their admin pages.
    TOTPDevice.objects.create(user=u["teacher"], name="phone")
    backup = StaticDevice.objects.create(user=u["teacher"], name="backup")
    backup.token_set.create(token="matrix01")
    # The sign-in lock-out's records (django-axes), for its admin pages.
    axes_row = {"username": "someone", "ip_address": "10.0.0.1", "user_agent": "matrix"}
    axes.AccessAttempt.objects.create(**axes_row, failures_since_start=1)
    axes.AccessLog.objects.create(**axes_row)
    axes.AccessFailureLog.objects.create(**axes_row)
    AccessLog.objects.create(
        user=u["triage_worker"],
        door=AccessLog.Door.WEB,
        action="case.view",
        object_type=AccessLog.Kind.CASE,
        object_id=cases["open"].pk,
    )
    ProtocolSettings.objects.get_or_create()
    PurgeRecord.objects.create(rule="draft", retention="180 days", kind="referral", count=1)
    RetainedFigure.objects.create(year=2020, key="referrals", code="", count=1)
    # An agency system (OAuth2 client credentials): its service user is no persona.
    services.api_client_create(
        actor=None, agency=u["school"], name="School register", role="teacher", scopes=["read"]
    )
    open_case = cases["open"]
    chosen = {
        "auth.user": u["teacher"].pk,
        "casework.referral": referrals["case_opened"].pk,
        "casework.case": open_case.pk,
        "casework.child": referrals["case_opened"].child_id,
        "casework.district": u["north"].pk,
        "casework.agency": u["school"].pk,
        "viewflow.process": int(s["process:case.open"]),
        "viewflow.task": int(s["task:case.review.new"]),
    }
    for model in admin.site._registry:
        label = model._meta.label_lower
        pk = chosen.get(label)
        if pk is None:
            first = model._default_manager.order_by("pk").first()
            assert first is not None, f"build_world: make one {label} for its admin URLs"
            pk = first.pk
        s[f"admin:{label}"] = str(pk)
        history = getattr(model, "history", None)
        if history is not None and hasattr(history, "model"):
            row = history.filter(id=pk).order_by("-history_id").first()
            s[f"adminhistory:{label}"] = str(row.history_id if row else 0)
    s["admin:contenttype.referral"] = str(ContentType.objects.get_for_model(Referral).pk)
    s["admin:referral"] = str(referrals["case_opened"].pk)
