"""The queue page's reads written as plain statements answer what the ORM answered, and the
benchmark's Viewflow rows are the ones a real submission writes."""

from django.forms.models import model_to_dict
from django.test import RequestFactory
from viewflow.workflow.models import Process, Task

from casework import permissions, prevention, selectors
from casework.audit import log_access
from casework.management.bench.viewflow_rows import write_referral_processes
from casework.models import AccessLog, Agency, Notification, PatternAlert, Referral
from tests.casework.test_pages import _referrals


def _row(log):
    return {k: v for k, v in model_to_dict(log).items() if k not in ("id", "at")}


def test_the_read_log_row_is_the_one_save_wrote(triage_worker):
    request = RequestFactory().get("/casework/queue/", REMOTE_ADDR="10.1.2.3")
    request.user = triage_worker
    for ids in ([7, 3, 9], [5]):
        log_access(request, action="queue", referrals=ids)
        plain = AccessLog.objects.order_by("-pk").first()
        expected = AccessLog(
            user=triage_worker, door="web", action="queue", object_type="referral",
            address="10.1.2.3", path="/casework/queue/",
            **({"object_ids": ids} if len(ids) > 1 else {"object_id": ids[0]}),
        )  # fmt: skip
        expected.save(force_insert=True)
        saved = AccessLog.objects.get(pk=expected.pk)
        assert _row(plain) == _row(saved)
        assert plain.at is not None and plain.at <= saved.at
    assert AccessLog.objects.showing(AccessLog.Kind.REFERRAL, [3]).count() == 2


def test_unread_count_and_schools_answer_as_the_orm(teacher, triage_worker, north, school):
    _referrals(teacher, north, school, 2)
    Agency.objects.create(name="Aardvark school", kind="school", district=north)
    expected = Notification.objects.filter(recipient=triage_worker, read_at__isnull=True)
    assert selectors.unread_count(triage_worker) == expected.count()
    assert [(s.pk, s.name) for s in selectors.queue_school_choices(triage_worker)] == [
        (s.pk, s.name) for s in selectors.queue_schools(triage_worker)
    ]
    assert selectors.queue_school_choices(teacher) == []


def test_alerts_read_only_when_a_triaged_district_has_one(
    teacher, triage_worker, north, south, school, django_assert_num_queries
):
    assert permissions.open_alert_district_ids(triage_worker) == set()
    # The grants (twice here: outside a request nothing keeps them); no alert read.
    with django_assert_num_queries(2):
        assert list(prevention.open_alerts_for(triage_worker)) == []
    PatternAlert.objects.create(district=south, item_count=3, window_start="2026-01-01",
                                window_end="2026-01-31")  # fmt: skip
    assert permissions.open_alert_district_ids(triage_worker) == set()
    alert = PatternAlert.objects.create(district=north, item_count=3, window_start="2026-01-01",
                                        window_end="2026-01-31")  # fmt: skip
    assert permissions.open_alert_district_ids(triage_worker) == {north.pk}
    assert list(prevention.open_alerts_for(triage_worker)) == [alert]
    assert permissions.open_alert_district_ids(teacher) == set()
    assert list(prevention.open_alerts_for(teacher)) == []


def test_benchmark_viewflow_rows_are_those_of_a_real_submission(
    teacher, triage_worker, north, school
):
    _referrals(teacher, north, school, 1)
    referral = Referral.objects.get()

    def rows():
        process = Process.objects.get()
        skip = ("id", "created", "started", "finished", "assigned", "process", "previous")
        tasks = [
            ({k: str(v) for k, v in model_to_dict(t).items() if k not in skip},
             [p.flow_task.name for p in t.previous.all()])
            for t in Task.objects.order_by("pk")
        ]  # fmt: skip
        head = {k: str(v) for k, v in model_to_dict(process).items() if k not in skip}
        return head, tasks

    real = rows()
    Task.objects.all().delete()
    Process.objects.all().delete()
    assert write_referral_processes([referral]) == 1
    assert rows() == real
    assert len(real[1]) == 3
