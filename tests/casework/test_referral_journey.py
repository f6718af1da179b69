"""The teacher's journey through the referral form and the supervisor's closure (issue 12):
nothing typed is lost, every error at once, a confirmation before sending, one referral however
often the form is sent, drafts deleted with their history kept, and a closure chosen, confirmed
and told to the school."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from casework import services
from casework.models import Case, Municipality, ProtocolVersion, Referral
from casework.services import TransitionNotAllowed
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

NEW = "/casework/referrals/new/"
CHILD = {
    "child-first_name": "Ada",
    "child-last_name": "Neri",
    "child-date_of_birth": "2015-01-01",
    "child-guardian_name": "Rosa Neri",
}
COMPLETE = {
    "concern_categories": "neglect",
    "observations": "Often hungry.",
    "urgency": "routine",
    "family_informed": "yes",
}


def _last(obj):
    return obj.history.order_by("-history_id").first()


# --- a failed send loses nothing -----------------------------------------------------------


def test_family_question_has_no_answer_like_default(client, teacher):
    client.force_login(teacher)
    body = client.get(NEW, follow=True).content.decode()
    assert '<option value="" selected>— choose —</option>' in body
    assert "Not stated yet" not in body


def test_failed_send_keeps_the_child_and_lists_every_error_once(client, teacher):
    client.force_login(teacher)
    data = {**CHILD, "urgency": "routine", "interpreter_needed": "on", "submit": "1"}
    data["child-date_of_birth"] = ""  # a child-level error beside the send-level ones
    response = client.post(NEW, data)
    assert response.status_code == 422
    body = response.content.decode()
    # One summary at the top, one link per field in error, all errors of every level at once.
    summary = body[
        body.index('id="error-summary"') : body.index("</div>", body.index("error-summary"))
    ]
    for anchor in (
        "#id_child-date_of_birth",
        "#id_concern_categories_0",
        "#id_observations",
        "#id_family_informed",
        "#id_interpreter_language",
    ):
        assert f'href="{anchor}"' in summary, anchor
    assert "There are 5 problems to fix" in summary
    assert 'value="Ada"' in body and 'value="Neri"' in body and 'value="Rosa Neri"' in body
    assert not Referral.objects.exists()


def test_draft_may_leave_the_family_question_unanswered(client, teacher):
    client.force_login(teacher)
    response = client.post(NEW, {**CHILD, "urgency": "routine", "save": "1"})
    referral = Referral.objects.get()
    assert response["Location"] == f"/casework/referrals/{referral.pk}/edit/"
    assert referral.family_informed is None and referral.status == "draft"


def test_send_goes_through_a_confirmation_and_a_what_happens_next_page(
    client, teacher, triage_worker
):
    client.force_login(teacher)
    response = client.post(NEW, {**CHILD, **COMPLETE, "submit": "1"})
    referral = Referral.objects.get()
    assert response["Location"] == f"/casework/referrals/{referral.pk}/confirm/"
    # Not sent yet: the confirmation shows what will be sent.
    assert referral.status == "draft"
    page = client.get(response["Location"]).content.decode()
    assert "Ada" in page and "Often hungry." in page and "Rosa Neri" in page
    assert "Confirm and send" in page
    response = client.post(f"/casework/referrals/{referral.pk}/confirm/", {"confirm": "1"})
    assert response["Location"] == f"/casework/referrals/{referral.pk}/sent/"
    referral.refresh_from_db()
    assert referral.status == "submitted"
    page = client.get(response["Location"]).content.decode()
    days = ProtocolVersion.fallback().routine_days  # North belongs to no municipality
    assert "What happens next" in page and "North" in page
    assert referral.triage_due_at == referral.submitted_at + datetime.timedelta(days=days)
    assert "They decide by" in page


def test_confirmation_refuses_an_incomplete_draft(client, teacher):
    client.force_login(teacher)
    client.post(NEW, {**CHILD, "urgency": "routine", "save": "1"})
    referral = Referral.objects.get()
    response = client.post(f"/casework/referrals/{referral.pk}/confirm/", {"confirm": "1"})
    assert response["Location"] == f"/casework/referrals/{referral.pk}/edit/"
    assert Referral.objects.get().status == "draft"


# --- one referral, however often it is sent ------------------------------------------------


def test_back_and_send_again_makes_one_referral(client, teacher):
    client.force_login(teacher)
    # The first visit gives the form its address with a one-time key.
    form_url = client.get(NEW)["Location"]
    assert form_url.startswith(f"{NEW}?k=")
    token = form_url.split("=", 1)[1]
    first = client.post(f"{NEW}?k={token}", {**CHILD, **COMPLETE, "submit": "1"})
    pk = Referral.objects.get().pk
    client.post(f"/casework/referrals/{pk}/confirm/", {"confirm": "1"})
    # Back to the filled form, "Send" again; then Back to the confirmation, "Confirm" again.
    again = client.post(f"{NEW}?k={token}", {**CHILD, **COMPLETE, "submit": "1"})
    assert again["Location"] == f"/casework/referrals/{pk}/sent/"
    confirm_again = client.post(f"/casework/referrals/{pk}/confirm/", {"confirm": "1"})
    assert confirm_again["Location"] == f"/casework/referrals/{pk}/sent/"
    assert first["Location"] == f"/casework/referrals/{pk}/confirm/"
    assert Referral.objects.count() == 1
    reasons = [h.history_change_reason for h in Referral.objects.get().history.all()]
    assert reasons.count("casework.referral.submitted") == 1


def test_a_draft_sent_twice_with_its_token_is_updated_not_duplicated(client, teacher):
    client.force_login(teacher)
    token = "t" * 32
    client.post(f"{NEW}?k={token}", {**CHILD, "urgency": "routine", "save": "1"})
    client.post(f"{NEW}?k={token}", {**CHILD, **COMPLETE, "save": "1"})
    referral = Referral.objects.get()
    assert referral.observations == "Often hungry."


def test_api_idempotency_key_gives_back_the_same_referral(teacher, other_teacher):
    body = {
        "child": {"first_name": "Ada", "last_name": "Neri", "date_of_birth": "2015-01-01"},
        "concern_categories": ["neglect"],
        "observations": "Often hungry.",
    }
    client = APIClient()
    client.force_authenticate(teacher)
    first = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Referral.objects.filter(referrer=teacher).count() == 1
    # A key is its author's own: the same key from someone else is another referral.
    other = APIClient()
    other.force_authenticate(other_teacher)
    third = other.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert third.status_code == 201 and third.json()["id"] != first.json()["id"]
    # Without a key every POST is a new referral, as before.
    client.post("/api/v1/referrals/", body, format="json")
    assert Referral.objects.filter(referrer=teacher).count() == 2


def test_api_refuses_an_idempotency_key_too_long(teacher):
    client = APIClient()
    client.force_authenticate(teacher)
    response = client.post(
        "/api/v1/referrals/",
        {"child": {"first_name": "A", "last_name": "B", "date_of_birth": "2015-01-01"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="x" * 65,
    )
    assert response.status_code == 400 and not Referral.objects.exists()


# --- drafts deleted by their author ---------------------------------------------------------


def test_author_deletes_a_draft_which_leaves_lists_and_api_but_keeps_its_history(client, teacher):
    client.force_login(teacher)
    client.post(NEW, {**CHILD, "urgency": "routine", "save": "1"})
    referral = Referral.objects.get()
    assert client.get(f"/casework/referrals/{referral.pk}/delete/").status_code == 200
    response = client.post(f"/casework/referrals/{referral.pk}/delete/")
    assert response["Location"] == "/casework/"
    referral.refresh_from_db()
    assert referral.deleted_at is not None
    row = _last(referral)
    assert (row.history_user, row.history_change_reason) == (
        teacher,
        "casework.referral.draft_deleted",
    )
    assert f"/casework/referrals/{referral.pk}/" not in client.get("/casework/").content.decode()
    assert client.get(f"/casework/referrals/{referral.pk}/edit/").status_code == 404
    api = APIClient()
    api.force_authenticate(teacher)
    assert api.get("/api/v1/referrals/").json()["results"] == []
    assert api.get(f"/api/v1/referrals/{referral.pk}/").status_code == 404


def test_a_deleted_draft_is_neither_changed_nor_sent(teacher, child):
    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="x",
        family_informed=True,
    )
    services.referral_delete_draft(actor=teacher, referral=draft)
    with pytest.raises(TransitionNotAllowed):
        services.referral_update_draft(actor=teacher, referral=draft, observations="y")
    with pytest.raises(TransitionNotAllowed):
        protocol("referral.submit")(actor=teacher, referral=draft)
    with pytest.raises(TransitionNotAllowed):
        services.referral_delete_draft(actor=teacher, referral=draft)
    assert Referral.objects.get().status == "draft"


def test_only_the_author_deletes_and_only_a_draft(teacher, school_referent, child):
    draft = services.referral_create_draft(
        actor=teacher, child=child, concern_categories=["neglect"], observations="x"
    )
    with pytest.raises(PermissionDenied):
        services.referral_delete_draft(actor=school_referent, referral=draft)
    draft.family_informed = True
    draft.save()
    protocol("referral.submit")(actor=teacher, referral=draft)
    with pytest.raises(TransitionNotAllowed):
        services.referral_delete_draft(actor=teacher, referral=draft)
    assert Referral.objects.get().deleted_at is None


# --- pages: the title, the danger guidance --------------------------------------------------


def test_draft_and_error_pages_have_a_plain_title_and_no_upload_box_in_it(client, teacher):
    client.force_login(teacher)
    client.post(NEW, {**CHILD, "urgency": "routine", "save": "1"})
    referral = Referral.objects.get()
    for response in (
        client.get(f"/casework/referrals/{referral.pk}/edit/"),
        client.post(NEW, {**CHILD, "submit": "1"}),
    ):
        body = response.content.decode()
        title = body[body.index("<title>") + 7 : body.index("</title>")]
        assert "<" not in title and "csrf" not in title.lower(), title
        assert body.count('id="h-attachments"') <= 1


def test_danger_guidance_sits_under_the_urgency_choice_and_on_the_next_pages(client, teacher):
    client.force_login(teacher)
    body = client.get(NEW, follow=True).content.decode()
    choice = body.index('value="immediate_danger"')
    guidance = body.index('id="emergency"')
    assert choice < guidance < body.index("4. What the school and the family know")
    danger = {**CHILD, **COMPLETE, "urgency": "immediate_danger", "submit": "1"}
    confirm = client.get(client.post(NEW, danger)["Location"]).content.decode()
    assert confirm.index('id="emergency"') < confirm.index("Check what will be sent")
    assert "Call 112 now." in confirm
    pk = Referral.objects.get().pk
    sent = client.get(client.post(f"/casework/referrals/{pk}/confirm/")["Location"])
    body = sent.content.decode()
    assert body.index('id="emergency"') < body.index("What happens next")


# --- closure with care -----------------------------------------------------------------------


def test_closure_page_shows_the_review_and_makes_no_choice(client, supervisor, case_to_close):
    client.force_login(supervisor)
    body = client.get(f"/casework/cases/{case_to_close.pk}/close/").content.decode()
    assert "Meals are regular, attendance good" in body and "Ferri, the mother" in body
    assert 'name="approve"' in body and "checked" not in body
    response = client.post(f"/casework/cases/{case_to_close.pk}/close/", {"reason": ""})
    assert response.status_code == 422
    assert "Choose whether the case closes or stays open." in response.content.decode()
    assert Case.objects.get().status == "closure_requested"


def test_closure_asks_to_confirm_then_tells_the_school_the_service_has_concluded(
    client, supervisor, teacher, case_to_close
):
    client.force_login(supervisor)
    url = f"/casework/cases/{case_to_close.pk}/close/"
    page = client.post(url, {"approve": "1"})
    assert page.status_code == 200 and "Confirm: close the case" in page.content.decode()
    assert Case.objects.get().status == "closure_requested"
    # "Change my decision" goes back to the choice, and changes nothing.
    assert "Your decision" in client.post(url, {"approve": "1", "change": "1"}).content.decode()
    client.post(url, {"approve": "1", "confirm": "1"})
    assert Case.objects.get().status == "closed"
    referral = Referral.objects.get()
    assert referral.concluded_at is not None
    assert _last(referral).history_change_reason == "casework.referral.involvement_concluded"
    client.force_login(teacher)
    body = client.get(f"/casework/referrals/{referral.pk}/").content.decode()
    assert "The social service has concluded its involvement" in body
    assert "Case opened" not in body
    # Minimal disclosure: nothing of the review reaches the school.
    assert "Meals are regular" not in body
    api = APIClient()
    api.force_authenticate(teacher)
    data = api.get(f"/api/v1/referrals/{referral.pk}/").json()
    assert data["status_label"] == "The social service has concluded its involvement"
    assert "Meals are regular" not in str(data)


def test_closure_wording_comes_from_the_protocol(client, supervisor, teacher, case_to_close, north):
    # The case started under no version (North had no municipality): the district's
    # protocol in force now says it.
    north.municipality = Municipality.objects.create(code="bergamo", name="Bergamo")
    services.audited_save(north, actor=supervisor, reason="casework.admin.district.changed")
    ProtocolVersion.objects.create(
        municipality=north.municipality,
        number=1,
        valid_from=datetime.date(2020, 1, 1),
        closure_message="Il servizio sociale ha concluso il proprio intervento.",
    )
    client.force_login(supervisor)
    client.post(f"/casework/cases/{case_to_close.pk}/close/", {"approve": "1", "confirm": "1"})
    client.force_login(teacher)
    referral = Referral.objects.get()
    body = client.get(f"/casework/referrals/{referral.pk}/").content.decode()
    assert "Il servizio sociale ha concluso il proprio intervento." in body


def test_only_the_supervisor_reaches_the_closure_decision(
    client, triage_worker, supervisor, case_to_close
):
    client.force_login(triage_worker)
    response = client.post(
        f"/casework/cases/{case_to_close.pk}/close/", {"approve": "1", "confirm": "1"}
    )
    assert response.status_code == 403
    assert Case.objects.get().status == "closure_requested"
    # Not the supervisor's to decide on a case that is not waiting: a message, not a refusal.
    client.force_login(supervisor)
    protocol("case.decide_closure")(
        actor=supervisor, case=case_to_close, approve=False, reason="Keep going"
    )
    response = client.get(f"/casework/cases/{case_to_close.pk}/close/", follow=True)
    assert "No closure awaits your decision on this case." in response.content.decode()
