"""Before the referral, in a real browser: a teacher asks the district's team about a worry
without naming the child, the triage worker answers, the teacher turns the thread into a
referral with one click (the child named only then) and sends it; the thread follows the
referral to both sides. Then three low-level worries about the same child raise a pattern
alert that triage sees at the top of its queue and acknowledges — and the teacher never does.
axe-core checks each new page."""

import pytest

from casework import services
from casework.models import Consultation, PatternAlert, Referral
from tests.conftest import protocol

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "A pupil of 7 often arrives hungry and falls asleep in class. Should we refer?"
ANSWER = "Talk to the mother first; if nothing changes in two weeks, refer."


def submit(page, selector):
    with page.expect_navigation():
        page.click(selector)


def test_a_consultation_answered_and_turned_into_a_referral_then_a_pattern_alert(
    login, live_server, teacher, other_teacher, triage_worker, north, axe_clean, screenshots
):
    # The teacher asks, naming no child.
    school_side = login(teacher)
    school_side.goto(f"{live_server.url}/casework/consultations/new/")
    axe_clean(school_side, "new consultation")
    school_side.select_option("select[name=age_band]", "6-10")
    school_side.check("input[name=concern_categories][value=neglect]")
    school_side.fill("textarea[name=question]", QUESTION)
    submit(school_side, "main button[type=submit]")
    consultation = Consultation.objects.get()
    assert school_side.url.endswith(consultation.get_absolute_url())
    assert "Waiting for the social team" in school_side.inner_text("#consultation-status")

    # The triage worker finds it in the list, by deadline, and answers.
    team = login(triage_worker)
    team.goto(f"{live_server.url}/casework/consultations/?sort=due")
    axe_clean(team, "consultation list")
    submit(team, f"a[href='{consultation.get_absolute_url()}']")
    team.fill("textarea[name=body]", ANSWER)
    submit(team, "main button[type=submit]")
    assert ANSWER in team.inner_text("#consultation-thread")
    assert "Answered" in team.inner_text("#consultation-status")
    axe_clean(team, "consultation answered")
    screenshots(team, "consultation-answered")

    # The teacher reads the answer and turns the consultation into a referral.
    school_side.reload()
    assert ANSWER in school_side.inner_text("#consultation-thread")
    submit(school_side, "#consultation-refer")
    axe_clean(school_side, "turn into a referral")
    school_side.fill("input[name=child-first_name]", "Luca")
    school_side.fill("input[name=child-last_name]", "Bruno")
    school_side.fill("input[name=child-date_of_birth]", "2016-03-02")
    submit(school_side, "main button[type=submit]")
    school_side.wait_for_url("**/edit/")
    assert school_side.input_value("textarea[name=observations]") == QUESTION
    assert school_side.is_checked("input[name=concern_categories][value=neglect]")
    school_side.select_option("select[name=family_informed]", "yes")
    submit(school_side, "button[name=submit]")
    school_side.wait_for_url("**/confirm/")
    submit(school_side, "button[name=confirm]")
    school_side.wait_for_url("**/sent/")
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.SUBMITTED
    consultation.refresh_from_db()
    assert consultation.referral == referral

    # The thread follows the referral, to both sides.
    for page in (school_side, team):
        page.goto(f"{live_server.url}{referral.get_absolute_url()}")
        assert ANSWER in page.inner_text("#consultation-thread")

    # Two more low-level worries about the same child, from another school and again from
    # the first: the sweep puts them together for triage.
    for author in (other_teacher, teacher):
        child = services.child_create(
            actor=author,
            first_name="Luca",
            last_name="Bruno",
            date_of_birth="2016-03-02",
            district=north,
            school=author.memberships.get().agency,
        )
        draft = services.referral_create_draft(
            actor=author,
            child=child,
            concern_categories=["absenteeism"],
            observations="Absent on Mondays.",
            family_informed=True,
        )
        protocol("referral.submit")(actor=author, referral=draft)
    assert services.pattern_alerts_raise() == 1
    alert = PatternAlert.objects.get()

    team.goto(f"{live_server.url}/casework/queue/")
    panel = team.locator("#pattern-alerts")
    assert panel.is_visible()
    for item in alert.referrals.all():
        assert panel.locator(f"a[href='/casework/referrals/{item.pk}/']").count() == 1
    axe_clean(team, "queue with a pattern alert")
    screenshots(team, "pattern-alert")
    team.fill(f"#alert-{alert.pk}-note", "Home visit with the school referent this week.")
    submit(team, f"#alert-{alert.pk} button[value=acknowledge]")
    assert team.locator("#pattern-alerts").count() == 0
    alert.refresh_from_db()
    assert alert.status == PatternAlert.Status.ACKNOWLEDGED
    assert alert.handled_by == triage_worker

    # The referrer's side never shows an alert.
    for url in ("/casework/", f"/casework/referrals/{referral.pk}/", "/casework/consultations/"):
        school_side.goto(f"{live_server.url}{url}")
        assert "Pattern alert" not in school_side.inner_text("body")
