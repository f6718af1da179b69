"""Requests that keep their promises under faults: a submit is safe for its author to repeat,
the read-log row commits with the change it records (or the change does not commit), and
every API error — a 500 too — is JSON with the request's id and nothing personal."""

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from casework.api import errors
from casework.api import referrals as referral_api
from casework.models import AccessLog, Notification, Referral

pytestmark = pytest.mark.django_db


def submit(client, pk):
    return client.post(f"/api/v1/referrals/{pk}/submit/")


def test_the_author_submitting_again_gets_the_current_state_and_nothing_happens_twice(
    api, teacher, triage_worker, file_referral
):
    pk = file_referral(teacher)  # submitted once, through the API
    referral = Referral.objects.get(pk=pk)
    history = referral.history.count()
    notifications = Notification.objects.count()

    client = api(teacher)
    response = submit(client, pk)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "submitted" and body["id"] == pk
    assert body["submitted_at"] is not None
    assert referral.history.count() == history
    assert Notification.objects.count() == notifications
    reads = AccessLog.objects.filter(object_id=pk, user=teacher).order_by("pk")
    assert list(reads.values_list("action", flat=True)) == ["referral.submit", "referral.view"]

    # Later states too: the author is told where the referral is now.
    api(triage_worker).post(f"/api/v1/referrals/{pk}/claim/")
    response = submit(client, pk)
    assert response.status_code == 200 and response.json()["status"] == "in_triage"


def test_someone_else_submitting_a_submitted_referral_is_still_refused(
    api, teacher, other_teacher, file_referral
):
    pk = file_referral(teacher)
    assert submit(api(other_teacher), pk).status_code == 404


def test_a_failed_read_log_write_undoes_the_submit_and_the_retry_succeeds(
    api, teacher, triage_worker, file_referral, monkeypatch, caplog
):
    """The database connection drops while the read-log row is written: the submit is not
    committed (no 500 for a committed change), the answer is JSON, and a retry submits."""
    pk = file_referral(teacher, submit=False)
    real = referral_api.log_access

    def dropped(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(referral_api, "log_access", dropped)
    client = api(teacher)
    response = submit(client, pk)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    assert Referral.objects.get(pk=pk).status == Referral.Status.DRAFT
    assert not Notification.objects.exists()
    [logged] = [r for r in caplog.records if r.name == "django.request"]
    assert logged.exc_info is not None  # the traceback is in the log, once

    monkeypatch.setattr(referral_api, "log_access", real)
    response = submit(client, pk)
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert Notification.objects.exists()


def test_a_server_error_outside_a_drf_view_is_json_under_the_api_and_a_page_elsewhere():
    factory = RequestFactory()
    request = factory.get("/api/v1/referrals/")
    request.request_id = "0123456789abcdef"
    response = errors.server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b'"request_id": "0123456789abcdef"' in response.content

    page = errors.server_error(factory.get("/casework/"))
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
