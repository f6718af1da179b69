"""The retention purge leaves nothing: a marker planted in every text field of every row that
belongs to a record (and in its documents on disk) is found nowhere after the purge — in no
column of any table, in no file under MEDIA_ROOT. On PostgreSQL the purge runs as the owner
role while the application connects as the runtime role, which may not do it itself.

And the purge respects holds, changes nothing in a dry run, leaves records not yet due, keeps
the yearly report's past figures, and resumes after a batch that failed."""

from __future__ import annotations

import datetime
import os
import uuid
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import NestedObjects
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, connections, models, transaction
from django.test import RequestFactory
from django.utils import timezone
from viewflow.workflow.models import Process

from casework import audit, db_roles, selectors, services
from casework.models import (
    AccessLog,
    Attachment,
    Case,
    Child,
    Contact,
    LegalHold,
    Municipality,
    ProtocolSettings,
    PurgeRecord,
    Referral,
    Subscriber,
    TrailUnlock,
)
from casework.models.organisation import Membership
from casework.services import purge as purge_services
from tests.casework.test_case_services import propose_closure
from tests.conftest import _member, protocol

FORM = {"concern_categories": ["neglect", "behaviour"], "family_informed": True}
LATER = datetime.timedelta(days=40 * 365)  # past every default retention


def marker() -> str:
    return "Qz" + uuid.uuid4().hex[:10]


def later():
    return timezone.now() + LATER


# --- building a full record, and planting the marker in it --------------------------------------


@pytest.fixture
def auditor(school):
    return _member("dpo", school, Membership.Role.AUDITOR)


def build_closed_case(
    *, mark, teacher, child, triage_worker, supervisor, psychologist, health_north, auditor
):
    """A referral with a document and a question, a case with plan, team, action, review,
    note and document, closed; read, unlocked by the auditor, changed in the admin."""
    draft = services.referral_create_draft(
        actor=teacher, child=child, observations=f"{mark} observed", **FORM
    )
    services.attachment_add(
        actor=teacher,
        upload=SimpleUploadedFile("a.pdf", f"%PDF-1.4 {mark}".encode(), "application/pdf"),
        title=f"{mark} drawing",
        referral=draft,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    protocol("referral.decide")(
        referral=referral,
        actor=triage_worker,
        decision="request_information",
        question=f"{mark} question?",
    )
    protocol("referral.answer")(referral=referral, actor=teacher, answer=f"{mark} answer")
    referral.refresh_from_db()
    case = protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")
    services.case_add_member(
        actor=triage_worker,
        case=case,
        user=psychologist,
        agency=health_north,
        role="psychologist",
        reason=f"{mark} assessment",
        legal_basis="public_task",
        basis_explanation=f"{mark} child-protection task",
    )
    action = services.case_add_action(
        actor=psychologist,
        case=case,
        objective=f"{mark} assess",
        owning_agency=health_north,
        owner=psychologist,
    )
    services.action_update(
        actor=psychologist, action=action, status="in_progress", progress_note=f"{mark} met"
    )
    services.case_add_note(actor=triage_worker, case=case, body=f"{mark} note")
    services.attachment_add(
        actor=triage_worker,
        upload=SimpleUploadedFile("r.pdf", f"%PDF-1.4 report {mark}".encode(), "application/pdf"),
        title=f"{mark} report",
        case=case,
    )
    request = RequestFactory().get(f"/casework/cases/{case.pk}/")
    request.user = triage_worker
    audit.log_access(
        request, action="case.view", cases=[case], referrals=[referral], children=[child]
    )
    services.trail_unlock(
        actor=auditor,
        purpose="complaint",
        explanation=f"{mark} complaint file 12/2026",
        case=case,
    )
    LogEntry.objects.create(
        user=supervisor,
        content_type=ContentType.objects.get_for_model(Child),
        object_id=str(child.pk),
        object_repr=f"{mark} child",
        action_flag=CHANGE,
        change_message=f"{mark} changed",
    )
    propose_closure(case, triage_worker)
    case.refresh_from_db()
    protocol("case.decide_closure")(actor=supervisor, case=case, approve=True, reason=mark)
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    return case


PLAIN_TEXT = (models.CharField, models.TextField, models.EmailField, models.SlugField)


def _rows_of(case: Case) -> dict:
    """Every row that belongs to the case's record: what depends on the case, its referrals
    and its child (Django's collector, the admin's "what would be deleted"), their processes,
    reads, unlocks and admin log entries; the history rows of all of them."""
    referrals = list(case.referrals.all())
    child = case.child
    roots = [case, *referrals, child]
    roots += list(
        Process.objects.filter(
            artifact_content_type__in=ContentType.objects.get_for_models(Case, Referral).values(),
            artifact_object_id__in=[case.pk, *[r.pk for r in referrals]],
        )
    )
    collector = NestedObjects(using="default")
    for root in roots:  # one by one: a protected relation stops a collect where it is
        collector.collect([root])
    found: dict = {}
    for model, objs in collector.data.items():
        found.setdefault(model, set()).update(o.pk for o in objs)
    for objs in collector.protected or ():
        found.setdefault(type(objs), set()).add(objs.pk)
    for kind, ids in (
        ("case", [case.pk]),
        ("referral", [r.pk for r in referrals]),
        ("child", [child.pk]),
    ):
        found.setdefault(AccessLog, set()).update(
            AccessLog.objects.filter(object_type=kind, object_id__in=ids).values_list(
                "pk", flat=True
            )
        )
        found.setdefault(TrailUnlock, set()).update(
            TrailUnlock.objects.filter(object_type=kind, object_id__in=ids).values_list(
                "pk", flat=True
            )
        )
    found[LogEntry] = set(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Child), object_id=str(child.pk)
        ).values_list("pk", flat=True)
    )
    for model, ids in list(found.items()):
        if hasattr(model, "history") and hasattr(model.history, "model"):
            history = model.history.model
            found[history] = set(
                history.objects.filter(id__in=ids).values_list("history_id", flat=True)
            )
    return found


def plant(mark: str, rows: dict) -> int:
    """Write the marker into every free-text column and every JSON column of these rows (the
    owner, with the audit tables opened for the planting as the purge opens them)."""
    planted = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('casework.purge', 'on', true)")
        for model, pks in rows.items():
            for pk in pks:
                values = {}
                for field in model._meta.concrete_fields:
                    value = f"{mark}{pk}"
                    if field.name == "object_id":  # a generic key (the admin's log), not text
                        continue
                    if type(field) in PLAIN_TEXT and not field.choices and not field.primary_key:
                        if field.max_length is None or field.max_length >= len(value):
                            values[field.attname] = value
                    elif isinstance(field, models.JSONField) and field.name not in (
                        "concern_categories",
                        "object_ids",
                    ):
                        values[field.attname] = {"planted": value}
                if values:
                    planted += model._base_manager.filter(pk=pk).update(**values)
    return planted


def find(mark: str) -> dict:
    """Every table and column holding the marker, and every file under MEDIA_ROOT."""
    hits = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            where = " OR ".join(f'CAST("{c}" AS TEXT) LIKE %s' for c in columns)
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE {where}',  # noqa: S608 - test, names from the catalogue
                [f"%{mark}%"] * len(columns),
            )
            n = cursor.fetchone()[0]
            if n:
                hits[table] = n
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        for name in files:
            path = Path(root) / name
            if mark.encode() in path.read_bytes() or mark in str(path):
                hits[str(path)] = 1
    return hits


# --- PostgreSQL: the application as the runtime role, the purge as the owner ---------------


@pytest.fixture
def role_split(transactional_db, django_db_blocker):
    """On PostgreSQL: a runtime role (as `manage.py db_roles` makes it), the owner's connection
    as the `owner` alias, and a switch that puts the application's connection on the runtime
    role. On SQLite: nothing to split."""
    if connection.vendor != "postgresql":
        yield None
        return
    name = f"casework_purge_test_{os.getpid()}"
    with django_db_blocker.unblock():
        admin = connections.create_connection("default")
        with admin.cursor() as cursor:
            cursor.execute(f"DROP ROLE IF EXISTS {name}")
            for statement in db_roles.create_statements(name):
                cursor.execute(statement)
        db_roles.apply_grants(name, admin)
    # The owner's connection, as DATABASES["owner"] (DATABASE_OWNER_URL) gives it in production,
    # made here by hand: the test database's tables belong to the superuser that migrated it.
    from django.db.backends.postgresql.base import DatabaseWrapper

    connections._connections.owner = DatabaseWrapper(dict(connection.settings_dict), "owner")
    owner_user = connection.settings_dict["USER"]

    class Split:
        role = name
        alias = "owner"

        def runtime(self):
            connection.close()
            connection.settings_dict["USER"] = name

        def owner(self):
            connection.close()
            connection.settings_dict["USER"] = owner_user

    split = Split()
    try:
        yield split
    finally:
        split.owner()
        connections["owner"].close()
        delattr(connections._connections, "owner")
        with admin.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")
        admin.close()


@pytest.mark.django_db(transaction=True)
def test_a_purged_closed_case_leaves_no_trace_anywhere(
    role_split,
    teacher,
    child,
    triage_worker,
    supervisor,
    psychologist,
    health_north,
    auditor,
):
    mark = marker()
    case = build_closed_case(
        mark=mark,
        teacher=teacher,
        child=child,
        triage_worker=triage_worker,
        supervisor=supervisor,
        psychologist=psychologist,
        health_north=health_north,
        auditor=auditor,
    )
    # Another child's referral, still in triage: it stays, and so do the rows about it.
    other_child = services.child_create(
        actor=teacher,
        first_name="Sara",
        last_name="Neri",
        date_of_birth="2015-01-01",
        district=child.district,
        school=child.school,
    )
    other = protocol("referral.submit")(
        referral=services.referral_create_draft(
            actor=teacher, child=other_child, observations="Sad", **FORM
        ),
        actor=teacher,
    )
    request = RequestFactory().get("/casework/queue/")
    request.user = triage_worker
    audit.log_access(request, action="queue", referrals=[other, *case.referrals.all()])
    rows = _rows_of(case)
    planted_models = {model._meta.db_table for model in rows}
    for table in (
        "casework_referral",
        "casework_case",
        "casework_child",
        "casework_guardian",
        "casework_note",
        "casework_attachment",
        "casework_action",
        "casework_review",
        "casework_caseplan",
        "casework_caseteammember",
        "casework_informationrequest",
        "casework_notification",
        "casework_accesslog",
        "casework_trailunlock",
        "casework_historicalreferral",
        "casework_historicalcase",
        "casework_historicalnote",
        "viewflow_process",
        "viewflow_task",
        "django_admin_log",
    ):
        assert table in planted_models, table
    assert plant(mark, rows) > 50
    before = find(mark)
    assert {"casework_historicalreview", "casework_accesslog", "viewflow_task"} <= set(before)
    assert any(str(settings.MEDIA_ROOT) in key for key in before)  # the documents' bytes
    year = timezone.localtime(Referral.objects.get(case=case).submitted_at).year
    report = selectors.yearly_indicators(year)

    if role_split is not None:
        role_split.runtime()
        # The runtime role cannot purge: refused before anything changes.
        with pytest.raises(purge_services.PurgeNotPermitted):
            purge_services.purge(now=later(), using="default")
        assert Case.objects.filter(pk=case.pk).exists()
    # The case's rule only: what goes with the record goes with it, not with the access log's
    # or the history's own rules.
    result = purge_services.purge(
        now=later(), rules=["closed_case"], using=role_split.alias if role_split else None
    )
    if role_split is not None:
        role_split.owner()

    assert ("closed_case", "case", 1) in {(r, k, n) for (r, k), n in result.counts.items()}
    assert find(mark) == {}
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not Child.objects.filter(pk=child.pk).exists()
    assert Referral.objects.filter(pk=other.pk).exists()
    listed = AccessLog.objects.get(action="queue")
    assert listed.object_ids == [other.pk]  # the list row keeps the others' ids only
    assert selectors.yearly_indicators(year) == report
    register = set(PurgeRecord.objects.values_list("rule", "kind", "count"))
    assert {
        ("closed_case", "case", 1),
        ("closed_case", "referral", 1),
        ("closed_case", "child", 1),
    } <= register


# --- the rules ---------------------------------------------------------------------------------


def _nfa(teacher, child, triage_worker, **fields):
    draft = services.referral_create_draft(
        actor=teacher, child=child, observations="Seen tired", **FORM
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    return protocol("referral.decide")(
        referral=referral,
        actor=triage_worker,
        decision="no_further_action",
        reason="Handled by the school",
        **fields,
    )


@pytest.mark.django_db
def test_a_hold_keeps_the_record_until_it_is_lifted(teacher, child, triage_worker, supervisor):
    referral = _nfa(teacher, child, triage_worker)
    hold = services.legal_hold_place(
        actor=supervisor, kind="child", object_id=child.pk, reason="Court proceedings"
    )
    assert purge_services.purge(now=later()).counts.get(("no_further_action", "referral")) is None
    assert Referral.objects.filter(pk=referral.pk).exists()
    services.legal_hold_lift(actor=supervisor, hold=hold, reason="Proceedings ended")
    purge_services.purge(now=later())
    assert not Referral.objects.filter(pk=referral.pk).exists()
    assert not Child.objects.filter(pk=child.pk).exists()
    assert not LegalHold.objects.exists()  # the lifted hold went with the record
    assert not LegalHold.history.exists()


@pytest.mark.django_db
def test_a_hold_on_a_referral_keeps_its_closed_case(
    teacher, child, triage_worker, supervisor, psychologist, health_north, auditor
):
    case = build_closed_case(
        mark=marker(),
        teacher=teacher,
        child=child,
        triage_worker=triage_worker,
        supervisor=supervisor,
        psychologist=psychologist,
        health_north=health_north,
        auditor=auditor,
    )
    services.legal_hold_place(
        actor=auditor, kind="referral", object_id=case.referrals.get().pk, reason="Appeal"
    )
    purge_services.purge(now=later())
    assert Case.objects.filter(pk=case.pk).exists()
    assert Attachment.objects.filter(case=case).exists()


@pytest.mark.django_db
def test_a_dry_run_counts_and_changes_nothing(teacher, child, triage_worker, capsys):
    referral = _nfa(teacher, child, triage_worker)
    tables = {m: m.objects.count() for m in (Referral, Child, AccessLog, PurgeRecord)}
    history = Referral.history.count()
    with time_machine.travel(later(), tick=False):
        call_command("purge", "--dry-run")
    out = capsys.readouterr().out
    assert "would purge no_further_action: referral 1" in out
    assert "Dry run: nothing was changed." in out
    assert {m: m.objects.count() for m in tables} == tables
    assert Referral.history.count() == history
    assert Referral.objects.filter(pk=referral.pk).exists()


@pytest.mark.django_db
def test_records_not_yet_due_stay(teacher, child, triage_worker):
    referral = _nfa(teacher, child, triage_worker)
    draft = services.referral_create_draft(actor=teacher, child=child, **FORM)
    days = services_settings_days("retention_no_further_action_days")
    just_before = timezone.now() + datetime.timedelta(days=days) - datetime.timedelta(hours=1)
    report = purge_services.purge(now=just_before)
    assert Referral.objects.filter(pk=referral.pk).exists()
    # The draft's own retention (180 days) has passed: it goes, the child stays (the
    # referral closed with no further action is still about them).
    assert not Referral.objects.filter(pk=draft.pk).exists()
    assert report.counts[("draft", "referral")] == 1
    assert Child.objects.filter(pk=child.pk).exists()


@pytest.mark.django_db
def test_each_municipality_keeps_its_records_for_its_own_time(
    django_assert_num_queries, north, south, triage_worker
):
    """Retention is the data controller's: North's municipality keeps helpline contacts 100
    days, South (no municipality) and a contact of no district the default (730)."""
    from casework import retention

    north.municipality = Municipality.objects.create(
        code="bergamo", name="Bergamo", retention_contact_days=100
    )
    north.save()
    Municipality.objects.create(code="idle", name="Idle", retention_contact_days=50)
    contacts = {
        where: Contact.objects.create(
            operator=triage_worker,
            channel="phone",
            category="parenting",
            question="Nursery?",
            district=where,
        )
        for where in (north, south, None)
    }
    rule = retention.RULES_BY_CODE["contact"]
    moment = timezone.now() + datetime.timedelta(days=200)
    # The durations in one query, then the records in one: not one query per municipality.
    with django_assert_num_queries(3):
        due = list(retention.due(rule, now=moment))
    assert due == [contacts[north]]
    assert rule.summary() == "50–730 days"
    assert [row["who"] for row in rule.kept()] == ["Bergamo", "Idle"]
    report = purge_services.purge(now=moment, rules=["contact"])
    assert report.counts[("contact", "contact")] == 1
    assert set(Contact.objects.all()) == {contacts[south], contacts[None]}
    assert PurgeRecord.objects.get(rule="contact").retention == "50–730 days"


def services_settings_days(name: str) -> int:
    """North belongs to no municipality: its records follow the field's default."""
    return Municipality._meta.get_field(name).default


@pytest.mark.django_db
def test_the_yearly_report_of_the_purged_year_does_not_change(teacher, child, triage_worker, north):
    with time_machine.travel(datetime.datetime(2020, 3, 2, 10, tzinfo=datetime.UTC), tick=False):
        _nfa(teacher, child, triage_worker)
    with time_machine.travel(datetime.datetime(2020, 5, 2, 10, tzinfo=datetime.UTC), tick=False):
        _nfa(teacher, child, triage_worker)
        Contact.objects.create(
            operator=triage_worker,
            channel="phone",
            category="health",
            question="Where?",
            district=north,
        )
    whole = selectors.yearly_indicators(2020)
    of_north = selectors.yearly_indicators(2020, [north], unassigned=False)
    assert whole["referrals"]["total"] == 2 and whole["contacts"]["total"] == 1
    purge_services.purge(now=later())
    assert not Referral.objects.exists() and not Contact.objects.exists()
    assert selectors.yearly_indicators(2020) == whole
    assert selectors.yearly_indicators(2020, [north], unassigned=False) == of_north


@pytest.mark.django_db(transaction=True)
def test_a_purge_that_fails_mid_batch_resumes_where_it_stopped(teacher, child, triage_worker):
    first = _nfa(teacher, child, triage_worker)
    second = _nfa(teacher, child, triage_worker)
    year = timezone.localtime(first.submitted_at).year
    report = selectors.yearly_indicators(year)
    batches = []

    def crash_on_second(rule, ids):
        batches.append(ids)
        if len(batches) == 2:
            raise OSError("disk went away")

    with pytest.raises(OSError):
        purge_services.purge(now=later(), batch_size=1, on_batch=crash_on_second)
    assert not Referral.objects.filter(pk=first.pk).exists()  # its batch was committed
    assert Referral.objects.filter(pk=second.pk).exists()  # rolled back, whole
    assert Referral.history.filter(id=second.pk).exists()
    assert PurgeRecord.objects.filter(kind="referral").count() == 1
    purge_services.purge(now=later(), batch_size=1)
    assert not Referral.objects.exists()
    assert sum(PurgeRecord.objects.filter(kind="referral").values_list("count", flat=True)) == 2
    assert selectors.yearly_indicators(year) == report  # counted once each


@pytest.mark.django_db
def test_subscribers_access_log_and_old_history_follow_their_own_rules(
    teacher, triage_worker, north
):
    gone = Subscriber.objects.create(
        kind="family",
        email="old@example.org",
        subscribed_on=datetime.date(2019, 1, 1),
        unsubscribed_on=datetime.date(2021, 6, 1),
    )
    listed = Subscriber.objects.create(
        kind="family", email="here@example.org", subscribed_on=datetime.date(2019, 1, 1)
    )
    report = selectors.yearly_indicators(2020)
    request = RequestFactory().get("/casework/queue/")
    request.user = triage_worker
    audit.log_access(request, action="queue", referrals=[1, 2])
    config = ProtocolSettings.current()
    services.audited_save(config, actor=None, reason="test.audited.change")
    with time_machine.travel(later(), tick=False):
        config.retention_subscriber_days = 31
        services.audited_save(config, actor=None, reason="test.audited.change")
    purge_services.purge(now=later() + datetime.timedelta(days=1))
    assert not Subscriber.objects.filter(pk=gone.pk).exists()
    assert Subscriber.objects.filter(pk=listed.pk).exists()  # still on the list: kept
    assert selectors.yearly_indicators(2020) == report
    assert not AccessLog.objects.exists()
    # Old versions of the organisation's records go; each record's latest version stays.
    assert list(config.history.values_list("retention_subscriber_days", flat=True)) == [31]


@pytest.mark.django_db
def test_the_beat_task_takes_no_arguments_and_purges(teacher, child, triage_worker):
    from casework import tasks

    referral = _nfa(teacher, child, triage_worker)
    entry = settings.CELERY_BEAT_SCHEDULE["retention-purge"]
    assert entry["task"] == "casework.tasks.purge_retention" and not entry.get("args")
    with time_machine.travel(later(), tick=False):
        assert tasks.purge_retention() >= 1
    assert not Referral.objects.filter(pk=referral.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_the_trigger_lets_only_the_owner_through_and_only_when_the_purge_asks(
    role_split, teacher, child
):
    """The trigger's door (migration 0021): the runtime role is refused even with the purge's
    setting; the owner is refused without it."""
    if role_split is None:
        pytest.skip("PostgreSQL only: SQLite has no roles and no triggers")
    import psycopg

    table = "casework_historicalchild"
    with connection.cursor() as cursor, pytest.raises(Exception, match="append-only"):
        with transaction.atomic():
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    assert Child.history.filter(id=child.pk).exists()
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        dbname=settings_dict["NAME"],
        user=role_split.role,
    ) as app:
        app.execute("SELECT set_config('casework.purge', 'on', false)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(f"DELETE FROM {table}")  # noqa: S608
    assert Child.history.filter(id=child.pk).exists()


@pytest.mark.django_db
def test_the_trail_of_a_deleted_organisation_record_goes_whole(north):
    from casework.models import Referent

    referent = Referent.objects.create(
        agency=north.agencies.create(name="Social North", kind="social_services"),
        topic="on_duty",
        name="Mario Rossi",
        phone="+39 1",
    )
    pk = referent.pk
    referent.delete()
    assert Referent.history.filter(id=pk).count() == 2
    purge_services.purge(now=later(), rules=["history"])
    assert not Referent.history.filter(id=pk).exists()


@pytest.mark.django_db
def test_the_command_purges_and_says_what_went(teacher, child, triage_worker, capsys):
    _nfa(teacher, child, triage_worker)
    with time_machine.travel(later(), tick=False):
        call_command("purge", "--rule", "no_further_action", "--batch-size", "10")
    out = capsys.readouterr().out
    assert "no_further_action: kept 1825 days after the decision" in out
    assert "purged no_further_action: referral 1" in out
    assert "purged no_further_action: child 1" in out
    assert not Referral.objects.exists()


def test_the_purge_uses_the_owner_connection_when_there_is_one(settings):
    assert purge_services.purge_alias() in ("owner", "default")
    assert ("owner" in connections.settings) == (purge_services.purge_alias() == "owner")
