"""/metrics: off without METRICS_TOKEN, refused without the token, and with it the named
series — request latency per view, the outbox, overdue triage per district, timers due, the
sweeps — with no personal data in them."""

import datetime
import json
import os
import re
import subprocess
import sys

import pytest
import time_machine
from django.test import override_settings

from casework.models import Notification
from casework.tasks import remind_overdue_triage
from ops.tasks import heartbeat
from tests.casework.test_sweeps import START, open_case, submitted
from tests.ops.test_probes import ROOT, _closed_port

TOKEN = "metrics-token-for-the-tests-0123456789"
DAY = datetime.timedelta(days=1)


def scrape(client, token=TOKEN, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def series(text: str) -> dict[str, float]:
    """{'name{labels}': value} of a Prometheus text exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


@pytest.mark.django_db
def test_metrics_are_off_without_a_token(client):
    assert scrape(client).status_code == 404
    assert scrape(client, token=None).status_code == 404


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_metrics_need_the_token(client, triage_worker):
    assert scrape(client, token=None).status_code == 401
    assert scrape(client, token="wrong").status_code == 401
    assert scrape(client, token=TOKEN + "x").status_code == 401
    refused = scrape(client, token=None)
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"casework_" not in refused.content
    # A signed-in user is no scraper.
    client.force_login(triage_worker)
    assert scrape(client, token=None).status_code == 401
    client.logout()
    # Prometheus asks by the node's address.
    ok = scrape(client, HTTP_HOST="10.20.30.40:8000")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain; version=")
    assert not ok.cookies


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_the_series_tell_the_state_of_the_work(
    client, teacher, child, triage_worker, supervisor, south
):
    with time_machine.travel(START, tick=False):
        heartbeat.delay()
        empty = series(scrape(client).content.decode())
    assert empty['casework_referrals_triage_overdue{district="north"}'] == 0
    assert empty['casework_referrals_triage_overdue{district="south"}'] == 0
    assert empty["casework_outbox_backlog"] == 0
    assert empty["casework_outbox_oldest_age_seconds"] == 0
    assert empty["casework_beat_stale"] == 0

    # Two referrals in North past their triage deadline, one not yet; a case whose review
    # timer is due.
    with time_machine.travel(START, tick=False):
        submitted(teacher, child, urgency="urgent")
        submitted(teacher, child, urgency="urgent")
        open_case(teacher, child, triage_worker)
    with time_machine.travel(START + 4 * DAY, tick=False):
        submitted(teacher, child, urgency="routine")
    later = START + 5 * DAY
    with time_machine.travel(later, tick=False):
        remind_overdue_triage.apply()  # a sweep run by a worker: its duration is recorded
    # The outbox (the tests' transactions never commit, so nothing was delivered): all
    # e-mailed but three, one of them tried and failed, one given up.
    Notification.objects.update(emailed_at=START)
    unsent = list(Notification.objects.order_by("created_at", "pk")[:3])
    Notification.objects.filter(pk__in=[n.pk for n in unsent]).update(emailed_at=None)
    Notification.objects.filter(pk=unsent[1].pk).update(attempts=2)
    Notification.objects.filter(pk=unsent[2].pk).update(attempts=30, gave_up_at=later)
    with time_machine.travel(later, tick=False):
        response = scrape(client)
    text = response.content.decode()
    found = series(text)
    assert found['casework_referrals_triage_overdue{district="north"}'] == 2
    assert found['casework_referrals_triage_overdue{district="south"}'] == 0
    assert found["casework_outbox_backlog"] == 2
    assert found["casework_outbox_retrying"] == 1
    assert found["casework_outbox_failed"] == 1
    age = (later - unsent[0].created_at).total_seconds()
    assert found["casework_outbox_oldest_age_seconds"] == pytest.approx(age)
    assert found["casework_timers_due"] == 0
    assert found["casework_database_up"] == 1
    # Five days without a heartbeat.
    assert found["casework_beat_stale"] == 1
    assert found['casework_task_last_success_age_seconds{task="beat"}'] == 5 * 86400
    assert (
        found['casework_task_last_success_age_seconds{task="casework.tasks.remind_overdue_triage"}']
        == 0
    )
    assert 'casework_sweep_duration_seconds{task="casework.tasks.remind_overdue_triage"}' in found

    # No person in it: labels are district codes, task names, views and methods.
    for value in (child.first_name, child.last_name, teacher.username, triage_worker.username):
        assert value not in text
    with time_machine.travel(START + 400 * DAY, tick=False):  # the case's review is due
        assert series(scrape(client).content.decode())["casework_timers_due"] == 1
    labels = set(re.findall(r'(\w+)="', text))
    assert labels <= {
        "district",
        "task",
        "view",
        "method",
        "status",
        "le",
        "transport",
        "vendor",
        "type",
        "quantile",
        "implementation",
        "version",
        "major",
        "minor",
        "patchlevel",
        "generation",
        "name",
        "charset",
        "templatename",
    }, labels


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_request_latency_is_measured_per_view(client, triage_worker):
    client.force_login(triage_worker)
    client.get("/casework/queue/")
    client.get("/casework/queue/")
    client.logout()
    found = series(scrape(client).content.decode())
    view = 'method="GET",view="casework:queue"'
    count = found[f"django_http_requests_latency_seconds_by_view_method_count{{{view}}}"]
    assert count >= 2
    assert f'django_http_requests_latency_seconds_by_view_method_bucket{{le="0.5",{view}}}' in found
    # The probes and the scrapes themselves are not counted as traffic.
    assert not any("healthz" in name or "ops:metrics" in name for name in found)


SCRAPE = """
import json
import django
django.setup()
from django.test import Client
response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer {token}")
print(json.dumps([response.status_code, response.content.decode()]))
""".replace("{token}", TOKEN)


def test_a_scrape_without_database_says_so():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://casework@127.0.0.1:{_closed_port()}/casework",
        "METRICS_TOKEN": TOKEN,
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRAPE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    status, text = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 200
    found = series(text)
    assert found["casework_database_up"] == 0
    assert "casework_outbox_backlog" not in found


@pytest.mark.django_db
@override_settings(METRICS_TOKEN=TOKEN)
def test_the_example_dashboard_asks_for_series_that_exist(client, triage_worker):
    client.force_login(triage_worker)
    client.get("/casework/queue/")
    client.logout()
    heartbeat.delay()
    text = scrape(client).content.decode()
    exposed = {name.partition("{")[0] for name in series(text)}
    exposed |= set(re.findall(r"^# TYPE (\w+)", text, re.MULTILINE))  # none run yet: no sample
    dashboard = json.loads((ROOT / "docs/grafana/casework-dashboard.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(?:casework|django)_\w+", target["expr"])
    }
    assert len(asked) >= 10
    assert asked <= exposed, asked - exposed
