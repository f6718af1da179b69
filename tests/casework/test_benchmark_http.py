"""`manage.py benchmark --http` runs end to end at a tiny size: gunicorn serves the project and
the floor on a loopback port, the benchmark's worker is signed in past the second factor, every
page answers 200 (Viewflow's own queue too), a teacher creates and submits over the API, and
every target is printed with its figure. No timing is asserted: this proves the harness."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="gunicorn's workers need a database they can reach: the test run's PostgreSQL "
        "database (SQLite's test database is in memory)",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_benchmark_http_mode_runs_end_to_end(tmp_path):
    out = io.StringIO()
    figures = tmp_path / "run.json"
    call_command(
        "benchmark", referrals=50, districts=2, repeat=1, http=True, rounds=1, requests=2,
        workers=1, clients=2, json_out=str(figures), stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    report = json.loads(figures.read_text())
    for page in (
        "floor (bare view, same query)",
        "triage queue page",
        "case page",
        "GET /api/v1/referrals/",
        "GET /api/v1/queue/",
        "Viewflow's own queue",
        "create + submit (teacher, API)",
    ):
        assert report["pages"][page]["statuses"] == {"200": report["pages"][page]["requests"]}
        assert report["pages"][page]["cpu_ms"] >= 0
    assert report["queries"]["triage queue page"] <= 8
    assert "targets (issue 17)" in text
    assert "queue page >= 5 x Viewflow's own queue" in text
    assert "create + submit p95 <= 100 ms" in text
    # A second run at another size compares the queue's p95 with this one.
    again = io.StringIO()
    call_command(
        "benchmark", referrals=0, reuse=True, repeat=1, http=True, rounds=1, requests=2,
        workers=1, clients=1, compare_with=str(figures), stdout=again,
    )  # fmt: skip
    assert "queue p95 at" in again.getvalue()
