"""The registry of audit reasons: every history row's reason is a registered code, written on
the model it names, and shown with its translated label in the chronology and the trails."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import translation

from casework import audit, models, selectors, services
from casework.admin import AuditedAdmin
from tests.conftest import protocol

FORM = {"concern_categories": ["neglect"], "observations": "Hungry", "family_informed": True}


@pytest.fixture
def case(teacher, child, triage_worker):
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")


def test_every_registered_reason_names_models_that_exist():
    for reason in audit.REASONS.values():
        assert reason.label, reason.code
        for label in reason.models:
            assert apps.get_model(label), (reason.code, label)


def test_every_model_edited_in_the_admin_has_its_reasons():
    edited = [
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, AuditedAdmin)
        and type(model_admin).save_model is AuditedAdmin.save_model
    ]
    assert models.District in edited
    for model in edited:
        for created in (True, False):
            code = audit.admin_reason(model(), created=created)
            assert model._meta.label_lower in audit.REASONS[code].models


@pytest.mark.django_db
def test_an_unregistered_reason_is_refused_and_nothing_is_written(north, triage_worker):
    north.name = "Renamed"
    with pytest.raises(ValueError, match="unregistered audit reason 'casework.district.renamed'"):
        services.audited_save(north, actor=triage_worker, reason="casework.district.renamed")
    north.refresh_from_db()
    assert north.name == "North"
    assert north.history.count() == 1


@pytest.mark.django_db
def test_a_reason_of_another_model_is_refused(north, triage_worker):
    with pytest.raises(ValueError, match="not written on casework.district"):
        services.audited_save(north, actor=triage_worker, reason="casework.referral.drafted")
    assert north.history.count() == 1


def test_a_code_registered_again_differently_is_refused():
    drafted = audit.REASONS["casework.referral.drafted"]
    assert audit.register_reason(drafted.code, drafted.label, audit.REFERRAL) is drafted
    with pytest.raises(ValueError, match="already registered"):
        audit.register_reason("casework.referral.drafted", "Something else", audit.REFERRAL)
    with pytest.raises(ValueError, match="name the models"):
        audit.register_reason("casework.nothing.done", "Nothing")


def test_an_old_code_no_longer_registered_is_shown_as_it_is():
    assert audit.reason_label("casework.referral.retired") == "casework.referral.retired"
    assert audit.reason_label(None) == "—"


@pytest.mark.django_db
def test_the_chronology_rows_carry_the_translated_label(case):
    with translation.override("it"):
        rows = selectors.case_history(case)
    assert (rows[0]["reason"], rows[0]["label"]) == (
        "casework.case.opened",
        "Presa in carico avviata",
    )
    with translation.override("en"):
        labels = [row["label"] for row in selectors.case_history(case)]
    assert labels[:3] == ["Case opened", "Plan created", "Lead worker assigned"]


@pytest.mark.django_db
def test_the_pages_and_the_api_show_the_label(client, case, triage_worker):
    client.force_login(triage_worker)
    client.cookies["django_language"] = "en"
    page = client.get(f"/casework/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Lead worker assigned" in page
    assert "Referral sent to the social team" in page  # the referral's rows, in the same chronology
    trail = client.get(f"/casework/cases/{case.pk}/history/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Plan created" in trail.content.decode()
    assert "casework.case_plan.created" in trail.content.decode()
    api = client.get(f"/api/v1/cases/{case.pk}/history/", HTTP_ACCEPT_LANGUAGE="en").json()[
        "results"
    ]
    assert (api[0]["reason"], api[0]["label"]) == ("casework.case.opened", "Case opened")


@pytest.mark.django_db
def test_the_chronology_filters_no_reason_by_its_name(case, triage_worker):
    """A registered reason is shown whoever registered it: the production code knows nothing
    of the tests' own reasons."""
    note = models.Note(case=case, author=triage_worker, body="Met the family")
    services.audited_save(note, actor=triage_worker, reason="test.note.added")
    assert "Test: note added" in [row["label"] for row in selectors.case_timeline(case)]
