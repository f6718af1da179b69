"""The data protection officer: subject access exports (everything about the person, nothing
about anyone else, the access log included, the export itself logged), rectification requests,
the register of processing, break-glass reads and access patterns; every other role refused."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from casework import privacy, services
from casework.audit import log_access
from casework.models import (
    AccessLog,
    Child,
    RectificationRequest,
    SubjectAccessRequest,
)
from casework.services import TransitionNotAllowed
from tests.conftest import protocol

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _open_case(teacher, child, worker, observations):
    form = {"concern_categories": ["neglect"], "observations": observations}
    draft = services.referral_create_draft(actor=teacher, child=child, family_informed=True, **form)
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    case = protocol("referral.decide")(referral=referral, actor=worker, decision="open_case")
    return referral, case


@pytest.fixture
def world(teacher, child, triage_worker, north, school, health_north):
    """Luca (the subject) with a case, a second referral typed again by the school and linked
    to him at triage; Marta, of the same school and district, with her own case."""
    referral, case = _open_case(teacher, child, triage_worker, "LUCA-FIRST hungry at school")
    services.case_add_note(actor=triage_worker, case=case, body="LUCA-NOTE home visit")
    services.consent_record(
        actor=triage_worker,
        case=case,
        purpose="share_agency",
        agency=health_north,
        given_by="Anna Bruno",
        given_on=TODAY(),
        how_obtained="signed",
    )
    marta = services.child_create(
        actor=teacher,
        first_name="Marta",
        last_name="Rossi",
        date_of_birth="2016-05-05",
        district=north,
        school=school,
        school_class="4B",
        guardians=[{"name": "Paolo Rossi", "relationship": "father"}],
    )
    _marta_referral, marta_case = _open_case(teacher, marta, triage_worker, "MARTA-SECRET bruises")
    services.case_add_note(actor=triage_worker, case=marta_case, body="MARTA-NOTE")
    # Luca again, typed by the school as a new record, linked at triage to the known child.
    typed = services.child_create(
        actor=teacher,
        first_name="Luca",
        last_name="Bruno",
        date_of_birth="2016-03-02",
        district=north,
        school=school,
    )
    draft = services.referral_create_draft(
        actor=teacher,
        child=typed,
        family_informed=True,
        concern_categories=["neglect"],
        observations="LUCA-SECOND tired again",
    )
    second = protocol("referral.submit")(referral=draft, actor=teacher)
    services.child_link(actor=triage_worker, referral=second, known=child)
    typed.refresh_from_db()
    return {
        "case": case,
        "referral": referral,
        "marta": marta,
        "marta_case": marta_case,
        "typed": typed,
        "second": second,
    }


class _Request:
    def __init__(self, user, path="/casework/cases/"):
        self.user, self.path, self.META = user, path, {"REMOTE_ADDR": "10.0.0.1"}


def test_export_holds_everything_about_the_child_and_nothing_about_another(
    client, dpo, child, triage_worker, world
):
    # The triage worker saw both cases in one list, then opened Luca's.
    log_access(
        _Request(triage_worker), action="case.list", cases=[world["case"], world["marta_case"]]
    )
    log_access(_Request(triage_worker), action="case.view", cases=[world["case"]])
    sar = services.subject_access_record(
        actor=dpo, child=world["typed"], requested_by="Anna Bruno", received_on=TODAY()
    )
    client.force_login(dpo)
    response = client.get(f"/casework/dpo/subject-access/{sar.pk}/export.json")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    for marker in ("LUCA-FIRST", "LUCA-NOTE", "LUCA-SECOND", "Anna Bruno", "UONPIA North"):
        assert marker in text, marker
    for foreign in ("MARTA", "Marta", "Rossi", "Paolo"):
        assert foreign not in text, foreign
    export = json.loads(text)
    assert {c["id"] for c in export["children"]} == {child.pk, world["typed"].pk}
    assert {r["id"] for r in export["referrals"]} == {world["referral"].pk, world["second"].pk}
    assert [c["id"] for c in export["cases"]] == [world["case"].pk]
    # Who saw it: the list read names only Luca's case, never Marta's.
    case_reads = [row for row in export["access_log"] if row["record_type"] == "Case"]
    assert {tuple(row["records"]) for row in case_reads} == {(world["case"].pk,)}
    assert any(r["what"] == "Opened the case" for r in case_reads)
    # The history carries the changes with their values (the note's text).
    assert any("casework" not in h["what"] and h["changes"] for h in export["history"])
    # Producing it was a read, logged as an export of the child's records.
    logged = AccessLog.objects.get(action="subject_access.export", object_type="child")
    assert (logged.user, logged.door) == (dpo, AccessLog.Door.EXPORT)
    assert set(logged.object_ids) == {child.pk, world["typed"].pk}
    assert AccessLog.objects.filter(
        action="subject_access.export", object_type="case", object_id=world["case"].pk
    ).exists()


def test_pdf_export_is_a_readable_pdf(client, dpo, world):
    sar = services.subject_access_record(
        actor=dpo, child=world["case"].child, requested_by="Anna Bruno", received_on=TODAY()
    )
    client.force_login(dpo)
    response = client.get(f"/casework/dpo/subject-access/{sar.pk}/export.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client.get(f"/casework/dpo/subject-access/{sar.pk}/export.csv").status_code == 404


def test_guardian_export_holds_the_guardian_and_the_familys_statements_only(dpo, child, world):
    guardian = child.guardians.get()
    sar = services.subject_access_record(
        actor=dpo, child=child, guardian=guardian, requested_by="Anna Bruno", received_on=TODAY()
    )
    export = privacy.subject_access(sar)
    text = privacy.subject_access_json(export)
    assert export["guardian"]["id"] == guardian.pk
    assert "Anna Bruno" in text and "Sharing the file with a named agency" in text
    for absent in ("LUCA-FIRST", "LUCA-NOTE", "MARTA", "Paolo"):
        assert absent not in text, absent


def test_a_guardian_of_another_child_is_refused(dpo, child, world):
    other = world["marta"].guardians.get()
    with pytest.raises(ValidationError) as error:
        services.subject_access_record(
            actor=dpo, child=child, guardian=other, requested_by="x", received_on=TODAY()
        )
    assert "guardian" in error.value.message_dict
    assert not SubjectAccessRequest.objects.exists()


def test_only_the_dpo_records_requests(child, triage_worker, supervisor, teacher):
    for person in (triage_worker, supervisor, teacher):
        with pytest.raises(PermissionDenied):
            services.subject_access_record(
                actor=person, child=child, requested_by="x", received_on=TODAY()
            )
        with pytest.raises(PermissionDenied):
            services.rectification_request_record(
                actor=person,
                child=child,
                field="school_class",
                requested_value="5A",
                requested_by="x",
                received_on=TODAY(),
            )


def test_rectification_accepted_corrects_the_record_with_its_history(dpo, child):
    request = services.rectification_request_record(
        actor=dpo,
        child=child,
        field="school_class",
        requested_value="5A",
        requested_by="Anna Bruno",
        received_on=TODAY(),
    )
    assert request.history.get().history_change_reason == "casework.rectification.requested"
    decided = services.rectification_decide(actor=dpo, request=request, accept=True)
    child.refresh_from_db()
    assert child.school_class == "5A"
    row = child.history.order_by("-history_id").first()
    assert (row.history_user, row.history_change_reason) == (dpo, "casework.child.rectified")
    assert decided.status == RectificationRequest.Status.ACCEPTED
    with pytest.raises(TransitionNotAllowed):
        services.rectification_decide(actor=dpo, request=decided, accept=False, reason="No")


def test_rectification_refused_needs_a_reason_and_changes_nothing(dpo, child):
    request = services.rectification_request_record(
        actor=dpo,
        child=child,
        field="last_name",
        requested_value="Brunetti",
        requested_by="Anna Bruno",
        received_on=TODAY(),
    )
    with pytest.raises(ValidationError):
        services.rectification_decide(actor=dpo, request=request, accept=False, reason="")
    refused = services.rectification_decide(
        actor=dpo, request=request, accept=False, reason="The civil registry reads Bruno"
    )
    child.refresh_from_db()
    assert child.last_name == "Bruno"
    assert refused.history.order_by("-history_id").first().history_change_reason == (
        "casework.rectification.refused"
    )


def test_rectification_with_an_impossible_value_changes_nothing(dpo, child):
    request = services.rectification_request_record(
        actor=dpo,
        child=child,
        field="date_of_birth",
        requested_value=(TODAY() + datetime.timedelta(days=3)).isoformat(),
        requested_by="Anna Bruno",
        received_on=TODAY(),
    )
    with pytest.raises(ValidationError) as error:
        services.rectification_decide(actor=dpo, request=request, accept=True)
    assert "requested_value" in error.value.message_dict
    request.refresh_from_db()
    child.refresh_from_db()
    assert request.status == "pending" and str(child.date_of_birth) == "2016-03-02"


def test_rectification_of_a_field_not_offered_is_refused(dpo, child):
    with pytest.raises(ValidationError) as error:
        services.rectification_request_record(
            actor=dpo,
            child=child,
            field="identity",
            requested_value="known",
            requested_by="x",
            received_on=TODAY(),
        )
    assert "field" in error.value.message_dict


def test_web_subject_access_and_rectification_pages_work_for_the_dpo(client, dpo, child, world):
    client.force_login(dpo)
    found = client.get("/casework/dpo/subject-access/?q=Bruno")
    assert found.status_code == 200 and "Luca" in found.content.decode()
    page = client.get(f"/casework/dpo/subject-access/?child={child.pk}")
    assert "Record a request about" in page.content.decode()
    created = client.post(
        f"/casework/dpo/subject-access/?child={child.pk}",
        {"child": child.pk, "requested_by": "Anna Bruno", "received_on": TODAY().isoformat()},
    )
    sar = SubjectAccessRequest.objects.get()
    assert created.status_code == 302 and created.url.endswith(f"/subject-access/{sar.pk}/")
    assert client.get(f"/casework/dpo/subject-access/{sar.pk}/").status_code == 200
    missing = client.post(f"/casework/dpo/subject-access/?child={child.pk}", {"child": child.pk})
    assert missing.status_code == 422
    assert SubjectAccessRequest.objects.count() == 1
    client.post(
        f"/casework/dpo/rectifications/?child={child.pk}",
        {
            "child": child.pk,
            "field": "home_languages",
            "requested_value": "Italian, Arabic",
            "requested_by": "Anna Bruno",
            "received_on": TODAY().isoformat(),
        },
    )
    request = RectificationRequest.objects.get()
    client.post(
        f"/casework/dpo/rectifications/{request.pk}/decide/", {f"r{request.pk}-accept": "yes"}
    )
    child.refresh_from_db()
    assert child.home_languages == "Italian, Arabic"


DPO_PAGES = [
    "/casework/dpo/",
    "/casework/dpo/break-glass/",
    "/casework/dpo/access-patterns/",
    "/casework/dpo/subject-access/",
    "/casework/dpo/rectifications/",
]


def test_dpo_pages_work_for_the_dpo(client, dpo, world):
    client.force_login(dpo)
    for url in DPO_PAGES:
        assert client.get(url).status_code == 200, url
    register = client.get("/casework/dpo/").content.decode()
    assert "Register of processing activities" in register
    assert "Case management by the multi-agency team" in register


def test_dpo_pages_are_refused_to_every_other_role(
    client, world, teacher, school_referent, triage_worker, supervisor, psychologist, outsider
):
    sar_url = "/casework/dpo/subject-access/1/export.json"
    for person in (teacher, school_referent, triage_worker, supervisor, psychologist, outsider):
        client.force_login(person)
        for url in [*DPO_PAGES, sar_url]:
            assert client.get(url).status_code == 403, (person, url)
        assert client.post("/casework/dpo/subject-access/", {}).status_code == 403


def test_break_glass_reads_are_listed(client, dpo, world):
    services.trail_unlock(
        actor=dpo, case=world["case"], purpose="data_subject", explanation="Request of the mother"
    )
    client.force_login(dpo)
    page = client.get("/casework/dpo/break-glass/").content.decode()
    assert "Request of the mother" in page


def test_reads_outside_the_team_are_found_in_one_query(
    django_assert_num_queries, supervisor, triage_worker, world
):
    cases = [world["case"], world["marta_case"]]
    for case in cases:
        log_access(_Request(supervisor), action="case.view", cases=[case])
        log_access(_Request(triage_worker), action="case.view", cases=[case])
    with django_assert_num_queries(1):
        rows = privacy.reads_outside_team(days=30, at_least=2)
    # The supervisor opened two cases of a team she is not on; the lead is on both teams.
    assert [row["username"] for row in rows] == ["coord_north"]
    assert rows[0]["cases"] == 2
    assert privacy.reads_outside_team(days=30, at_least=3) == []


def test_the_register_reads_retention_settings_defensively(world):
    activities = privacy.processing_register()
    assert {a["key"] for a in activities} >= {"referrals", "cases", "audit", "requests"}
    for activity in activities:
        assert isinstance(activity["retention"], list)
        assert activity["categories"]
    cases = next(a for a in activities if a["key"] == "cases")
    assert "Health service" in cases["recipients"] or "Social services" in cases["recipients"]


def test_subject_children_follow_same_as_both_ways(child, world):
    assert privacy.subject_children(world["typed"]) == [child, world["typed"]]
    assert privacy.subject_children(child) == [child, world["typed"]]
    assert world["marta"] not in privacy.subject_children(child)
    assert Child.objects.count() == 3
