"""The three journeys of the protocol in a real browser, with the personas of tests/conftest.py."""

import datetime

import pytest
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.timers import fire_due_timers

from casework.models import Case, Referral
from protocols.flows import CaseFlow
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)


def submit(page, selector):
    """Click a submit button and wait for the page that answers."""
    with page.expect_navigation():
        page.click(selector)


def file_and_submit(page, live_server, screenshots=None):
    page.goto(f"{live_server.url}/casework/referrals/new/")
    page.fill("input[name=child-first_name]", "Luca")
    page.fill("input[name=child-last_name]", "Bruno")
    page.fill("input[name=child-date_of_birth]", "2016-03-02")
    page.fill("input[name=child-school_class]", "4B")
    page.check("input[name=concern_categories][value=neglect]")
    page.check("input[name=indicator_codes][value='neglect.hungry']")
    page.fill("textarea[name=observations]", "Often hungry and tired in the morning.")
    page.check("input[name=urgency][value=priority]")
    # A draft survives: save it, then come back to it.
    submit(page, "button[name=save]")
    page.wait_for_url("**/edit/")
    assert page.locator("textarea[name=observations]").input_value().startswith("Often hungry")
    # Submitting without saying whether the family knows: the message is next to the field.
    submit(page, "button[name=submit]")
    assert page.locator(".cw-field--error select[name=family_informed]").count() == 1
    page.select_option("select[name=family_informed]", "yes")
    if screenshots:
        screenshots(page, "referral-form")
    submit(page, "button[name=submit]")
    page.wait_for_url("**/confirm/")
    if screenshots:
        screenshots(page, "referral-confirm")
    submit(page, "button[name=confirm]")
    page.wait_for_url("**/sent/")
    if screenshots:
        screenshots(page, "referral-sent")
    pk = int(page.url.rstrip("/").split("/")[-2])
    page.goto(f"{page.url.split('/casework/')[0]}/casework/referrals/{pk}/")
    assert "Submitted, waiting for triage" in page.inner_text("main")
    return pk


def test_teacher_files_and_submits_a_referral(
    login, live_server, teacher, triage_worker, screenshots
):
    page = login(teacher)
    screenshots(page, "home-teacher")
    pk = file_and_submit(page, live_server, screenshots)
    referral = Referral.objects.get(pk=pk)
    assert referral.status == "submitted" and referral.referrer == teacher
    assert referral.indicators == ["neglect.hungry"]
    screenshots(page, "referral-referrer-view")


def test_immediate_danger_shows_the_emergency_number_at_once(login, live_server, teacher):
    page = login(teacher)
    page.goto(f"{live_server.url}/casework/referrals/new/")
    assert page.locator("#emergency").is_hidden()
    page.check("input[name=urgency][value=immediate_danger]")
    assert page.locator("#emergency").is_visible()
    assert "112" in page.inner_text("#emergency")


def test_triage_asks_for_information_then_opens_a_case(
    login, live_server, teacher, triage_worker, screenshots
):
    teacher_page = login(teacher)
    pk = file_and_submit(teacher_page, live_server)

    worker = login(triage_worker)
    worker.goto(f"{live_server.url}/casework/queue/")
    screenshots(worker, "triage-queue")
    worker.click(f"a[href='/casework/referrals/{pk}/']")
    submit(worker, "button:has-text('Claim')")
    worker.click("a:has-text('Decide')")
    worker.check("input[name=decision][value=request_information]")
    worker.fill("textarea[name=question]", "Since when has he been hungry?")
    screenshots(worker, "triage-decision")
    submit(worker, "button:has-text('Record the decision')")
    assert Referral.objects.get(pk=pk).status == "information_requested"

    teacher_page.goto(f"{live_server.url}/casework/referrals/{pk}/")
    assert "Since when has he been hungry?" in teacher_page.inner_text("main")
    teacher_page.fill("textarea[name=answer]", "Since September.")
    submit(teacher_page, "button:has-text('Send the answer')")
    assert "Since September." in teacher_page.inner_text("main")

    worker.goto(f"{live_server.url}/casework/referrals/{pk}/decide/")
    worker.check("input[name=decision][value=open_case]")
    worker.select_option("select[name=risk_level]", "high")
    worker.fill("textarea[name=feedback]", "We are taking it up.")
    # A new case needs its lead: the error is next to the field, and what was typed stays.
    submit(worker, "button:has-text('Record the decision')")
    assert worker.locator(".cw-field--error select[name=lead_worker]").count() == 1
    assert worker.locator("textarea[name=feedback]").input_value() == "We are taking it up."
    worker.select_option("select[name=lead_worker]", str(triage_worker.pk))
    submit(worker, "button:has-text('Record the decision')")
    referral = Referral.objects.get(pk=pk)
    assert referral.status == "case_opened" and referral.case.lead_worker == triage_worker

    teacher_page.goto(f"{live_server.url}/casework/referrals/{pk}/")
    text = teacher_page.inner_text("main")
    assert "Case opened" in text and "We are taking it up." in text
    assert referral.case.reference not in text


def test_case_team_works_the_plan_reviews_and_supervisor_closes(
    login,
    live_server,
    teacher,
    triage_worker,
    supervisor,
    psychologist,
    health_north,
    screenshots,
):

    teacher_page = login(teacher)
    pk = file_and_submit(teacher_page, live_server)
    referral = Referral.objects.get(pk=pk)
    case = protocol("referral.decide")(
        referral=referral, actor=triage_worker, decision="open_case", risk_level="medium"
    )

    lead = login(triage_worker)
    lead.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    lead.fill("textarea[name=objectives]", "Regular meals and school attendance")
    submit(lead, "button:has-text('Save the plan')")
    lead.click("summary:has-text('Add a professional')")
    lead.select_option("select[name=user]", str(psychologist.pk))
    lead.select_option("select[name=agency]", str(health_north.pk))
    lead.select_option("select[name=role]", "psychologist")
    lead.fill("input[name=reason]", "Assessment")
    # The health service is not yet on the team: the sharing needs the family's consent or
    # another legal basis, explained.
    lead.select_option("select[name=legal_basis]", "public_task")
    lead.fill("textarea[name=basis_explanation]", "Child-protection task of the municipality")
    submit(lead, "button:has-text('Add to the team')")
    assert case.team.filter(user=psychologist).exists()

    team = login(psychologist)
    team.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    team.click("summary:has-text('Add an action')")
    team.fill("input[name=objective]", "Psychological assessment")
    team.select_option("select[name=owning_agency]", str(health_north.pk))
    team.select_option("select[name=owner]", str(psychologist.pk))
    submit(team, "button:has-text('Add the action')")
    assert case.plan.actions.count() == 1

    # The review timer comes due (as the beat sweep would find it) and opens the review.
    Task.objects.filter(flow_task=CaseFlow.wait_review, status="SCHEDULED").update(
        scheduled=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert fire_due_timers() == 1
    team.goto(f"{live_server.url}/casework/cases/{case.pk}/")
    team.fill("textarea[name=attendees]", "Ferri, Conti, the mother")
    team.select_option("select[name=risk_level]", "low")
    team.check("input[name=decision][value=close]")
    team.fill("textarea[name=notes]", "Meals are regular, attendance is good.")
    screenshots(team, "case-review")
    submit(team, "button:has-text('Record the review')")
    assert Case.objects.get(pk=case.pk).status == "closure_requested"

    boss = login(supervisor)
    boss.goto(f"{live_server.url}/casework/")
    screenshots(boss, "home-supervisor")
    boss.goto(f"{live_server.url}/casework/cases/{case.pk}/close/")
    boss.check("input[name=approve][value='1']")
    submit(boss, "button:has-text('Continue')")
    screenshots(boss, "case-closure-confirm")
    submit(boss, "button:has-text('Confirm: close the case')")
    case.refresh_from_db()
    assert case.status == "closed" and case.closure_approved_by == supervisor
    screenshots(boss, "case-page")


def test_other_district_worker_reaches_none_of_it(
    login, live_server, teacher, triage_worker, outsider
):

    teacher_page = login(teacher)
    pk = file_and_submit(teacher_page, live_server)
    case = protocol("referral.decide")(
        referral=Referral.objects.get(pk=pk), actor=triage_worker, decision="open_case"
    )
    page = login(outsider)
    for path in (
        f"/casework/referrals/{pk}/",
        f"/casework/referrals/{pk}/decide/",
        f"/casework/referrals/{pk}/history/",
        f"/casework/cases/{case.pk}/",
        f"/casework/cases/{case.pk}/history/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
    page.goto(f"{live_server.url}/casework/queue/")
    assert f"/casework/referrals/{pk}/" not in page.content()
    page.goto(f"{live_server.url}/casework/cases/")
    assert case.reference not in page.content()
