"""The pages as people read them: the chronology and the trails in words (names, labels,
formatted values), the homes of the helpline operator and of the auditor, the profile and the
sign-in page of the product, and Catalan with no Italian left over from the framework."""

import datetime
import re

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from casework import audit, models, selectors, services, trails
from casework.models import AccessLog
from tests.conftest import protocol
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def named(teacher, triage_worker):
    for user, first, last in ((teacher, "Maria", "Rossi"), (triage_worker, "Paolo", "Verdi")):
        user.first_name, user.last_name = first, last
        user.save()


@pytest.fixture
def referral(teacher, child, named):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    return protocol("referral.submit")(referral=draft, actor=teacher)


@pytest.fixture
def case(referral, triage_worker):
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


@pytest.fixture
def auditor(school):
    user = UserFactory(username="dpo", first_name="Dora", last_name="Privacy")
    services.membership_create(actor=None, user=user, agency=school, role="auditor")
    return user


@pytest.fixture
def operator(north):
    point = models.Agency.objects.create(name="Info point", kind="community", district=north)
    user = UserFactory(username="operator", first_name="Olga", last_name="Line")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    return user


def _get(client, user, url, language="en"):
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url)
    return response, response.content.decode()


# --- the chronology and the trails --------------------------------------------------------------


def test_every_registered_reason_and_field_has_words_in_every_language():
    from django.utils.translation import trans_real

    tracked = [m for m in apps.get_app_config("casework").get_models() if hasattr(m, "history")]
    for language in ("it", "ca", "es"):
        catalog = trans_real.translation(language)._catalog
        for reason in audit.REASONS.values():
            if not reason.code.startswith("test."):
                assert str(reason.label._args[0]) in catalog, (language, reason.code)
        for model in tracked:
            for field in model._meta.concrete_fields:
                if field.name != "id":
                    # A lazy name (every field the project declares) is in the catalogue;
                    # simple-history's own columns (history_*) are not on the pages.
                    words = getattr(field.verbose_name, "_args", [None])[0]
                    if words is not None:
                        assert words in catalog, (language, model.__name__, field.name)


def test_the_chronology_is_in_time_order_with_full_names_and_labels(client, case, triage_worker):
    rows = selectors.case_timeline(case)
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/")
    chronology = page[page.index('id="h-timeline"') :]
    assert "Referral sent to the social team" in chronology
    assert chronology.index("Referral sent to the social team") < chronology.index(
        "Lead worker assigned"
    )
    assert "Maria Rossi" in chronology and "Paolo Verdi" in chronology
    assert "maestra" not in chronology and "as_north" not in chronology
    assert "casework.case.opened" not in chronology


def test_the_chronology_filters_by_kind_of_event(client, case, triage_worker):
    _response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/?kind=casemember")
    assert 'name="kind"' in page
    _response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/?kind=caseteammember")
    chronology = page[page.index('id="h-timeline"') :]
    assert "Lead worker assigned" in chronology
    assert "Referral sent to the social team" not in chronology
    assert '<option value="caseteammember" selected>Case team members</option>' in page


def test_the_trail_shows_names_field_labels_and_formatted_values(client, case, triage_worker):
    with translation.override("en"):
        services.case_add_action(
            actor=triage_worker,
            case=case,
            objective="Homework club",
            owning_agency=case.referrals.get().school,
            owner=None,
            due_date=datetime.date(2031, 5, 17),
        )
    _response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/history/")
    page = page[page.index('<table class="cw-table') :]
    for words in ("Risk level", "Lead worker", "Paolo Verdi", "Medium", "Luca Bruno", "Due date"):
        assert words in page, words
    assert "17/05/2031" in page or "05/17/2031" in page
    for raw in ("risk_level", "lead_worker:", "child: ", "True", "False", "as_north"):
        assert raw not in page, raw
    _response, page = _get(
        client, triage_worker, f"/casework/referrals/{case.referrals.get().pk}/history/"
    )
    assert "Areas of concern" in page or "Concern categories" in page
    assert "Neglect" in page and "neglect" not in page.split("</header>")[-1].replace("Neglect", "")
    assert "Yes" in page  # family informed


def test_the_auditor_still_reads_no_values_and_back_leads_to_the_search(client, auditor, case):
    response, page = _get(client, auditor, f"/casework/cases/{case.pk}/history/")
    assert response.status_code == 200
    assert "Risk level" in page and "Medium" not in page and "Luca" not in page
    back = re.search(r'<a class="cw-back" href="([^"]+)"', page).group(1)
    assert back == "/casework/audit/"
    assert client.get(back).status_code == 200
    referral = case.referrals.get()
    _response, page = _get(client, auditor, f"/casework/referrals/{referral.pk}/history/")
    assert "Hungry" not in page and "Observations" in page


def test_back_from_a_trail_leads_the_lead_worker_to_the_case(client, triage_worker, case):
    _response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/history/")
    back = re.search(r'<a class="cw-back" href="([^"]+)"', page).group(1)
    assert back == case.get_absolute_url()


def test_describe_reads_linked_records_in_one_query_per_kind(
    case, triage_worker, django_assert_max_num_queries
):
    rows = selectors.case_history(case)
    with django_assert_max_num_queries(6):
        trails.describe(rows)


# --- the auditor's home and search -------------------------------------------------------------


def test_the_auditors_home_searches_trails(client, auditor, case):
    _response, page = _get(client, auditor, "/casework/")
    assert "Find an audit trail" in page and 'name="child"' in page and 'name="person"' in page
    assert 'href="/casework/audit/"' in page  # the menu


@pytest.mark.parametrize(
    "query",
    [
        {"child": "luca bruno"},
        {"child": "bruno"},
        {"person": "Paolo Verdi"},
        {"person": "as_north"},
        {"case": "{reference}"},
        {"referral": "{referral}"},
        {"date_from": "{today}", "date_to": "{today}"},
    ],
)
def test_the_auditor_finds_a_case_and_its_referral(client, auditor, case, query):
    referral = case.referrals.get()
    values = {"reference": case.reference, "referral": referral.pk}
    values["today"] = timezone.localdate().isoformat()
    params = {k: v.format(**values) for k, v in query.items()}
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    page = client.get("/casework/audit/", params).content.decode()
    assert f"/casework/cases/{case.pk}/history/" in page
    assert f"/casework/referrals/{referral.pk}/history/" in page
    assert "Luca" not in page and "Hungry" not in page  # trails, not files
    reads = set(
        AccessLog.objects.filter(user=auditor, action="audit.search").values_list(
            "object_type", "object_id"
        )
    )
    assert {("case", case.pk), ("referral", referral.pk)} <= reads


def test_a_search_that_matches_nothing_lists_nothing_and_logs_nothing(client, auditor, case):
    client.force_login(auditor)
    client.cookies["django_language"] = "en"
    page = client.get("/casework/audit/", {"child": "Nobody Atall"}).content.decode()
    assert "No case matches." in page and "No referral matches." in page
    page = client.get("/casework/audit/").content.decode()
    assert "Trails found" not in page
    assert not AccessLog.objects.filter(action="audit.search").exists()


def test_only_the_auditor_searches_trails(client, triage_worker, supervisor, case):
    for user in (triage_worker, supervisor):
        client.force_login(user)
        assert client.get("/casework/audit/", {"child": "Bruno"}).status_code == 403
    with pytest.raises(PermissionDenied):
        trails.audit_search(triage_worker, child="Bruno")


# --- the helpline operator's home ---------------------------------------------------------------


def test_the_operators_home_shows_todays_contacts_and_the_directory_search(client, operator, north):
    services.contact_record(
        actor=operator,
        channel="phone",
        category="parenting",
        question="Nursery places?",
        district=north,
    )
    with time_machine.travel(timezone.now() - datetime.timedelta(days=2)):
        services.contact_record(
            actor=operator, channel="email", category="health", question="Old one"
        )
    _response, page = _get(client, operator, "/casework/")
    assert "Today&#x27;s helpline contacts" in page or "Today's helpline contacts" in page
    today = page[page.index('id="h-helpline"') : page.index('id="h-find-service"')]
    assert "Parenting" in today and "Olga Line" in today and "Health" not in today
    assert 'action="/casework/services/"' in page and 'name="age"' in page
    assert "You have no role" not in page


# --- the profile and the sign-in page ---------------------------------------------------------


def test_the_profile_is_the_products(client, triage_worker, named):
    _response, page = _get(client, triage_worker, "/accounts/profile/")
    assert "Paolo Verdi" in page and "Social worker" in page and "Social services North" in page
    assert "Second factor" in page and "API tokens" in page and "Notifications" in page
    assert 'name="language"' in page and 'href="/casework/"' in page
    assert "Django Material" not in page
    assert not re.search(r">\s*(True|False)\s*<", page)


def test_the_sign_in_page_says_what_the_service_is_and_whom_to_call(client, settings):
    settings.SUPPORT_CONTACT = "the IT desk, 010 123 456"
    client.cookies["django_language"] = "en"
    page = client.get("/accounts/login/").content.decode()
    assert "What this service is" in page and "the IT desk, 010 123 456" in page
    assert "call 112 now" in page
    assert "Viewflow" not in page and 'name="username"' in page


# --- Catalan everywhere -------------------------------------------------------------------------

ITALIAN_MENU_WORDS = ["Applicazioni", "Profilo", "Posta in arrivo", "Archivio", "Esci", "Coda"]


@pytest.mark.parametrize(
    "url", ["/casework/", "/casework/cases/", "/casework/queue/", "/accounts/profile/"]
)
def test_a_catalan_page_has_no_italian_menu_words(client, triage_worker, url):
    response, page = _get(client, triage_worker, url, language="ca")
    assert response.status_code == 200, url
    for word in ITALIAN_MENU_WORDS:
        assert not re.search(rf"\b{word}\b", page), (url, word)
    assert "Aplicacions" in page and "Perfil" in page


def test_the_access_report_says_what_each_read_was(client, auditor, triage_worker, case):
    _get(client, triage_worker, f"/casework/cases/{case.pk}/")
    response, page = _get(client, auditor, f"/casework/cases/{case.pk}/access/")
    assert "Opened the case" in page and "Paolo Verdi" in page
    assert ">case.view<" not in page
    back = re.search(r'<a class="cw-back" href="([^"]+)"', page).group(1)
    assert back == "/casework/audit/"
    _response, page = _get(client, triage_worker, f"/casework/cases/{case.pk}/access/")
    assert re.search(r'<a class="cw-back" href="([^"]+)"', page).group(1) == case.get_absolute_url()


def test_every_kind_of_read_has_words():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "casework"
    codes = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "action":
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    codes.add(node.value.value)
    codes -= {"store_true", "append"}  # argparse's, in the management commands
    assert codes and codes <= set(audit.ACCESS_ACTIONS), codes - set(audit.ACCESS_ACTIONS)
