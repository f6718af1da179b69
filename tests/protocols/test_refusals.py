"""Refusals through the API: who may not see or touch a referral or a case, and what they get.

An object the caller may not see answers 404 (its existence is not disclosed); an object the
caller sees but may not change answers 403; either way nothing changes — no status, no history
row, no notification, no workflow task.
"""

import json

import pytest
from django.apps import apps
from viewflow.workflow.models import Task

from casework import services
from casework.models import Agency, Case, Membership, Notification, Referral
from tests.factories import AgencyFactory, UserFactory
from tests.protocols.conftest import CHILD

pytestmark = pytest.mark.django_db

STATES = ["draft", "submitted", "in_triage", "information_requested", "case_opened"]
UNRELATED = ["outsider", "other_teacher", "stranger"]


def child(first_name, **extra):
    """A distinct child per referral, so that opening a case never links another referral."""
    return {**CHILD, "first_name": first_name, "last_name": f"Bruno-{first_name}", **extra}


class World:
    """Referrals of `teacher` (school Primary Rodari, district north), one per state, and the
    case opened from the last one — each built through the API on first use, so that a test
    pays only for the states it touches."""

    def __init__(self, api, teacher, triage_worker, file_referral, **scopes):
        self._teacher, self._worker = teacher, api(triage_worker)
        self._file = file_referral
        self._referrals = {}
        self._case = None
        self.__dict__.update(scopes)

    def referral(self, state):
        if state not in self._referrals:
            self._referrals[state] = self._build(state)
        return self._referrals[state]

    @property
    def referrals(self):
        """All of them."""
        return {state: self.referral(state) for state in STATES}

    @property
    def case(self):
        self.referral("case_opened")
        return self._case["id"]

    @property
    def reference(self):
        self.referral("case_opened")
        return self._case["reference"]

    def _decide(self, pk, **decision):
        response = self._worker.post(f"/api/v1/referrals/{pk}/decision/", decision, format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    def _build(self, state):
        name = {"draft": "Dora", "submitted": "Sara", "in_triage": "Tina"}.get(state, state)
        pk = self._file(self._teacher, child=child(name.title()), submit=state != "draft")
        if state in ("in_triage", "information_requested"):
            response = self._worker.post(f"/api/v1/referrals/{pk}/claim/")
            assert response.status_code == 200, response.json()
        if state == "information_requested":
            self._decide(pk, decision="request_information", question="Since when?")
        if state == "case_opened":
            body = self._decide(
                pk, decision="open_case", risk_level="high", feedback="We will call you."
            )
            self._case = body["case"]
        assert Referral.objects.get(pk=pk).status == state
        return pk


@pytest.fixture
def world(api, teacher, triage_worker, psychologist, social_north, health_north, file_referral):
    return World(
        api,
        teacher,
        triage_worker,
        file_referral,
        social_north=social_north,
        health_north=health_north,
        psychologist=psychologist,
    )


def snapshot():
    """Everything a refused request must leave alone: states, every history table, the
    outbox and the workflow tasks."""
    history = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label == "casework" and model.__name__.startswith("Historical")
    }
    return {
        "referrals": list(
            Referral.objects.order_by("pk").values_list(
                "pk", "status", "claimed_by_id", "decision", "case_id", "observations"
            )
        ),
        "cases": list(
            Case.objects.order_by("pk").values_list("pk", "status", "risk_level", "next_review_at")
        ),
        "history": history,
        "notifications": Notification.objects.count(),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", "status", "owner_id")),
    }


def history_rows(referral_id):
    return Referral.history.filter(id=referral_id).count()


# --- the refusal matrix -------------------------------------------------------------------

# (id, state of the referral or "case", method, path after the object, payload(world))
REFERRAL_ENDPOINTS = [
    *[(f"referral-get-{s}", s, "get", "", None) for s in STATES],
    ("referral-patch-draft", "draft", "patch", "", lambda w: {"observations": "Rewritten"}),
    ("referral-submit-draft", "draft", "post", "submit/", None),
    ("referral-validate-submitted", "submitted", "post", "validate/", None),
    ("referral-claim-submitted", "submitted", "post", "claim/", None),
    ("referral-release-in_triage", "in_triage", "post", "release/", None),
    *[
        (
            f"referral-decision-{s}",
            s,
            "post",
            "decision/",
            lambda w: {"decision": "no_further_action", "reason": "Not our concern"},
        )
        for s in ("submitted", "in_triage")
    ],
    (
        "referral-information-information_requested",
        "information_requested",
        "post",
        "information/",
        lambda w: {"answer": "Since September"},
    ),
    *[(f"referral-history-{s}", s, "get", "history/", None) for s in STATES],
]

CASE_ENDPOINTS = [
    ("case-get", "case", "get", "", None),
    ("case-plan", "case", "post", "plan/", lambda w: {"objectives": "Regular meals"}),
    (
        "case-actions",
        "case",
        "post",
        "actions/",
        lambda w: {"objective": "Home visit", "owning_agency": w.social_north.pk},
    ),
    (
        "case-team",
        "case",
        "post",
        "team/",
        lambda w: {
            "user": w.psychologist.pk,
            "agency": w.health_north.pk,
            "role": "psychologist",
            "reason": "Assessment",
        },
    ),
    (
        "case-reviews",
        "case",
        "post",
        "reviews/",
        lambda w: {"risk_level": "low", "decision": "continue", "attendees": "Team"},
    ),
    ("case-close", "case", "post", "close/", lambda w: {"reason": "All fine"}),
    ("case-history", "case", "get", "history/", None),
]

ENDPOINTS = [pytest.param(*endpoint, id=endpoint[0]) for endpoint in REFERRAL_ENDPOINTS]
ENDPOINTS += [pytest.param(*endpoint, id=endpoint[0]) for endpoint in CASE_ENDPOINTS]


def prepare(world, target):
    """Build the object a request targets (before the snapshot is taken)."""
    return world.case if target == "case" else world.referral(target)


def call(client, world, target, method, suffix, payload):
    if target == "case":
        url = f"/api/v1/cases/{world.case}/{suffix}"
    else:
        url = f"/api/v1/referrals/{world.referral(target)}/{suffix}"
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, payload(world) if payload else {}, format="json")


@pytest.mark.parametrize("persona", UNRELATED)
@pytest.mark.parametrize(("name", "target", "method", "suffix", "payload"), ENDPOINTS)
def test_unrelated_users_get_404_and_change_nothing(
    request, api, world, persona, name, target, method, suffix, payload
):
    user = request.getfixturevalue(persona)
    prepare(world, target)
    referral_id = None if target == "case" else world.referral(target)
    rows = history_rows(referral_id) if referral_id else None
    before = snapshot()
    response = call(api(user), world, target, method, suffix, payload)
    assert response.status_code == 404, (name, response.status_code, response.content)
    assert snapshot() == before
    if referral_id:
        assert Referral.objects.get(pk=referral_id).status == target
        assert history_rows(referral_id) == rows
    else:
        assert Case.objects.get(pk=world.case).status == Case.Status.OPEN


LIST_ENDPOINTS = [
    pytest.param("get", "/api/v1/referrals/", None, id="referrals-list"),
    pytest.param("post", "/api/v1/referrals/", {"child": CHILD}, id="referrals-create"),
    pytest.param("get", "/api/v1/cases/", None, id="cases-list"),
    pytest.param("get", "/api/v1/queue/", None, id="queue"),
    pytest.param("get", "/api/v1/services/", None, id="services"),
]


@pytest.mark.parametrize(("name", "target", "method", "suffix", "payload"), ENDPOINTS)
def test_anonymous_is_refused_on_every_object_endpoint(
    api, world, name, target, method, suffix, payload
):
    prepare(world, target)
    before = snapshot()
    response = call(api(None), world, target, method, suffix, payload)
    assert response.status_code in (401, 403), (name, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize(("method", "url", "payload"), LIST_ENDPOINTS)
def test_anonymous_is_refused_on_every_list_endpoint(api, world, method, url, payload):
    assert world.referrals and world.case
    before = snapshot()
    client = api(None)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, payload, format="json")
    assert response.status_code in (401, 403), response.status_code
    assert snapshot() == before


# --- lists and the queue ------------------------------------------------------------------


def listed_ids(client, url):
    """Every id of a paginated list, all pages."""
    ids = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [item["id"] for item in body["results"]]
        url = body["next"]
    return ids


@pytest.fixture
def south_referral(south, file_referral):
    school = AgencyFactory(name="Primary Deledda", kind=Agency.Kind.SCHOOL, district=south)
    south_teacher = services.membership_create(
        actor=None,
        user=UserFactory(username="maestra_south"),
        agency=school,
        role=Membership.Role.TEACHER,
    ).user
    return file_referral(south_teacher, child=child("Silvia", last_name="Sud"))


@pytest.mark.parametrize("persona", UNRELATED)
def test_unrelated_users_list_none_of_the_north_referrals_or_cases(request, api, world, persona):
    assert world.referrals and world.case
    client = api(request.getfixturevalue(persona))
    assert set(listed_ids(client, "/api/v1/referrals/")).isdisjoint(world.referrals.values())
    assert world.case not in listed_ids(client, "/api/v1/cases/")


def test_teacher_lists_only_their_own_referrals(
    api, world, teacher, other_teacher, file_referral, south_referral
):
    ours = world.referrals
    theirs = file_referral(other_teacher, child=child("Olga"))
    mine = listed_ids(api(teacher), "/api/v1/referrals/")
    assert sorted(mine) == sorted(ours.values())
    assert theirs not in mine and south_referral not in mine
    assert listed_ids(api(teacher), "/api/v1/cases/") == []
    # The other teacher, for contrast, lists their own and nothing of the first school.
    assert listed_ids(api(other_teacher), "/api/v1/referrals/") == [theirs]


@pytest.mark.parametrize("persona", ["teacher", "other_teacher", "stranger"])
def test_queue_is_refused_to_whoever_does_not_triage(request, api, world, persona):
    assert world.referrals
    response = api(request.getfixturevalue(persona)).get("/api/v1/queue/")
    assert response.status_code == 403


def test_triage_worker_queue_has_only_north_referrals(api, world, triage_worker, south_referral):
    assert world.referrals
    queue = listed_ids(api(triage_worker), "/api/v1/queue/")
    waiting = [world.referrals[s] for s in ("submitted", "in_triage", "information_requested")]
    assert sorted(queue) == sorted(waiting)
    assert set(Referral.objects.filter(pk__in=queue).values_list("district__code", flat=True)) == {
        "north"
    }
    assert south_referral not in queue


def test_outsider_queue_has_no_north_referral(api, world, outsider, south_referral):
    assert world.referrals
    queue = listed_ids(api(outsider), "/api/v1/queue/")
    assert queue == [south_referral]  # their own district's queue works
    assert set(queue).isdisjoint(world.referrals.values())


# --- the school cannot triage -------------------------------------------------------------

TRIAGE_ATTEMPTS = [
    pytest.param("claim/", None, id="claim"),
    pytest.param(
        "decision/", {"decision": "no_further_action", "reason": "Fine"}, id="decision-nfa"
    ),
    pytest.param("decision/", {"decision": "open_case"}, id="decision-open_case"),
    pytest.param(
        "decision/",
        {"decision": "escalate", "target": "police", "reason": "Worry"},
        id="decision-escalate",
    ),
]


@pytest.mark.parametrize("persona", ["teacher", "school_referent"])
@pytest.mark.parametrize(("suffix", "payload"), TRIAGE_ATTEMPTS)
def test_the_school_cannot_triage_its_submitted_referral(
    request, api, world, persona, suffix, payload
):
    pk = world.referral("submitted")
    client = api(request.getfixturevalue(persona))
    assert client.get(f"/api/v1/referrals/{pk}/").status_code == 200  # it sees the referral
    rows = history_rows(pk)
    before = snapshot()
    response = client.post(f"/api/v1/referrals/{pk}/{suffix}", payload or {}, format="json")
    assert response.status_code == 403, response.content
    assert snapshot() == before
    assert Referral.objects.get(pk=pk).status == "submitted"
    assert history_rows(pk) == rows


def test_teacher_cannot_release_or_decide_a_claimed_referral(api, world, teacher):
    pk = world.referral("in_triage")
    client = api(teacher)
    before = snapshot()
    assert client.post(f"/api/v1/referrals/{pk}/release/").status_code == 403
    response = client.post(
        f"/api/v1/referrals/{pk}/decision/",
        {"decision": "no_further_action", "reason": "Fine"},
        format="json",
    )
    assert response.status_code == 403
    assert snapshot() == before


# --- closing a case -----------------------------------------------------------------------


@pytest.fixture
def team_psychologist(api, world, triage_worker, psychologist, health_north):
    response = api(triage_worker).post(
        f"/api/v1/cases/{world.case}/team/",
        {
            "user": psychologist.pk,
            "agency": health_north.pk,
            "role": "psychologist",
            "reason": "Assessment of the child's wellbeing",
            "legal_basis": "public_task",
            "basis_explanation": "Child-protection task",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return psychologist


@pytest.fixture
def colleague(triage_worker):
    """Another social worker of the North triage team, not on the case team."""
    return services.membership_create(
        actor=None,
        user=UserFactory(username="as_north_2"),
        agency=triage_worker.memberships.get().agency,
        role=Membership.Role.SOCIAL_WORKER,
    ).user


def test_team_member_who_is_neither_lead_nor_supervisor_gets_403_on_close(
    api, world, team_psychologist
):
    client = api(team_psychologist)
    assert client.get(f"/api/v1/cases/{world.case}/").status_code == 200  # sees the case
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case}/close/", {"reason": "x"}, format="json")
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "persona",
    ["teacher", "school_referent", "other_teacher", "outsider", "stranger", "colleague"],
)
def test_whoever_is_not_on_the_case_gets_404_on_close(
    request, api, world, team_psychologist, persona
):
    client = api(request.getfixturevalue(persona))
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case}/close/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["triage_worker", "supervisor"])
def test_lead_and_supervisor_may_close_but_only_at_a_due_review(request, api, world, persona):
    """Not refused for who they are: the answer is a conflict of state (no review is due)."""
    assert world.case
    client = api(request.getfixturevalue(persona))
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case}/close/", {"reason": "x"}, format="json")
    assert response.status_code == 409, response.content
    assert snapshot() == before


# --- what the school sees -----------------------------------------------------------------

SOCIAL_ONLY_KEYS = {"decision_reason", "case", "claimed_by"}


def all_keys(value):
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_a_draft_is_visible_only_to_its_author(
    api, world, teacher, school_referent, triage_worker, supervisor
):
    pk = world.referral("draft")
    assert api(teacher).get(f"/api/v1/referrals/{pk}/").status_code == 200
    for user in (school_referent, triage_worker, supervisor):
        client = api(user)
        assert client.get(f"/api/v1/referrals/{pk}/").status_code == 404, user
        assert client.get(f"/api/v1/referrals/{pk}/history/").status_code == 404, user
        assert pk not in listed_ids(client, "/api/v1/referrals/"), user
    assert pk not in listed_ids(api(triage_worker), "/api/v1/queue/")


def test_after_submit_the_referent_sees_the_referrer_view(
    api, world, teacher, school_referent, triage_worker
):
    pk = world.referral("draft")
    assert api(school_referent).get(f"/api/v1/referrals/{pk}/").status_code == 404
    assert api(teacher).post(f"/api/v1/referrals/{pk}/submit/").status_code == 200
    for user in (teacher, school_referent):
        response = api(user).get(f"/api/v1/referrals/{pk}/")
        assert response.status_code == 200, user
        assert response.json()["status"] == "submitted"
        assert SOCIAL_ONLY_KEYS.isdisjoint(response.json()), (user, sorted(response.json()))
    full = api(triage_worker).get(f"/api/v1/referrals/{pk}/").json()
    assert SOCIAL_ONLY_KEYS <= set(full)


@pytest.mark.parametrize("state", STATES[1:])
def test_the_school_never_gets_the_social_fields(
    api, world, teacher, school_referent, triage_worker, state
):
    pk = world.referral(state)
    for user in (teacher, school_referent):
        body = api(user).get(f"/api/v1/referrals/{pk}/").json()
        assert body["status"] == state
        assert SOCIAL_ONLY_KEYS.isdisjoint(body), (user, sorted(body))
        listed = [
            item
            for item in api(user).get("/api/v1/referrals/").json()["results"]
            if item["id"] == pk
        ]
        assert len(listed) == 1 and SOCIAL_ONLY_KEYS.isdisjoint(listed[0])
    assert SOCIAL_ONLY_KEYS <= set(api(triage_worker).get(f"/api/v1/referrals/{pk}/").json())


def test_the_referrer_view_never_reveals_the_case(
    api, world, teacher, school_referent, triage_worker
):
    pk = world.referral("case_opened")
    full = api(triage_worker).get(f"/api/v1/referrals/{pk}/").json()
    assert full["case"] == {"id": world.case, "reference": world.reference}
    assert world.reference.startswith("NORTH-")
    for user in (teacher, school_referent):
        client = api(user)
        for url in (f"/api/v1/referrals/{pk}/", "/api/v1/referrals/"):
            response = client.get(url)
            assert response.status_code == 200
            text = response.content.decode()
            assert world.reference not in text, (user, url)
            assert world.reference.lower() not in text.lower(), (user, url)
            keys = all_keys(json.loads(text))
            assert not keys & {"case", "case_id", "reference", "case_reference"}, (user, url)
        assert client.get(f"/api/v1/cases/{world.case}/").status_code == 404
        assert world.case not in listed_ids(client, "/api/v1/cases/")
        body = client.get(f"/api/v1/referrals/{pk}/").json()
        assert body["status"] == "case_opened" and body["feedback"] == "We will call you."
