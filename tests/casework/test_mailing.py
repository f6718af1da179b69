"""The mailing list: double opt-in, mailings to a category's subscribers, each at most once,
resumable, the unsubscribe link, export and erasure on request."""

import datetime
import json
import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from casework import services
from casework.models import Mailing, MailingCategory, MailingDelivery, Subscriber
from casework.services import mailing as mailing_services
from tests.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mailing_categories")]


@pytest.fixture
def operator(north):
    point = AgencyFactory(name="Family point", kind="other", district=north)
    user = UserFactory(username="operator")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    return user


def category(code):
    return MailingCategory.objects.get(code=code)


def subscribed(email, *codes, kind="family", institution_type="", district=None):
    subscriber = Subscriber.objects.create(
        kind=kind,
        institution_type=institution_type,
        email=email,
        district=district,
        subscribed_on=timezone.localdate(),
        consent_at=timezone.now(),
    )
    subscriber.categories.set([category(c) for c in codes])
    return subscriber


def test_the_four_default_categories_exist():
    assert set(MailingCategory.objects.values_list("code", flat=True)) >= {
        "cultural_recreational_sports",
        "family_support",
        "education_school",
        "socio_economic",
    }


def test_subscription_needs_the_confirmation_of_the_address(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/mailing-list/",
            {
                "kind": "institution",
                "institution_type": "library",
                "name": "Biblioteca Sala Borsa",
                "email": "library@example.org",
                "categories": [category("education_school").pk],
                "consent": "on",
            },
        )
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.subscribed_on is None and subscriber.consent_at is None
    assert "keeps my e-mail address" in subscriber.consent_text
    (message,) = mail.outbox
    assert message.to == ["library@example.org"]
    link = re.search(r"http\S+/mailing-list/confirm/(\S+)/", message.body)
    token = link.group(1)
    # The link carries a random token, nothing about the person.
    assert token == subscriber.token and "library" not in token and str(subscriber.pk) != token
    path = f"/mailing-list/confirm/{token}/"
    # Opening the link (a mail scanner does) confirms nothing; the button does.
    assert client.get(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.subscribed_on is None
    assert client.post(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.subscribed_on == timezone.localdate() and subscriber.consent_at
    assert list(subscriber.events.values_list("reason", flat=True)) == [
        "casework.subscriber.requested",
        "casework.subscriber.confirmed",
    ]


def test_the_form_does_not_tell_who_is_subscribed(client, django_capture_on_commit_callbacks):
    subscribed("known@example.org", "family_support")
    data = {"kind": "family", "email": "known@example.org", "consent": "on"}
    data["categories"] = [category("socio_economic").pk]
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/mailing-list/", data)
        new = client.post("/mailing-list/", {**data, "email": "new@example.org"})
    assert known.content.decode().count("Check your e-mail") == 1
    assert new.content.decode().count("Check your e-mail") == 1
    # Nothing of the known subscription changed from the public form.
    known_row = Subscriber.objects.get(email="known@example.org")
    assert list(known_row.categories.values_list("code", flat=True)) == ["family_support"]
    assert Subscriber.objects.count() == 2


def test_an_institution_says_its_type_and_consent_is_required(client):
    response = client.post(
        "/mailing-list/",
        {
            "kind": "institution",
            "email": "a@example.org",
            "categories": [category("family_support").pk],
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"institution_type", "consent"}
    assert not Subscriber.objects.exists()


def test_a_mailing_goes_to_its_category_once_each_with_an_unsubscribe_link(
    client, operator, django_capture_on_commit_callbacks
):
    reader = subscribed("reader@example.org", "education_school", "family_support")
    subscribed(
        "school@example.org", "education_school", kind="institution", institution_type="school"
    )
    subscribed("sport@example.org", "cultural_recreational_sports")
    Subscriber.objects.create(kind="family", email="pending@example.org").categories.set(
        [category("education_school")]
    )
    client.force_login(operator)
    response = client.post(
        "/casework/mailings/new/",
        {"category": category("education_school").pk, "subject": "Summer school", "body": "Hi"},
    )
    mailing = Mailing.objects.get()
    assert response.status_code == 302 and mailing.status == "draft"
    assert client.get(f"/casework/mailings/{mailing.pk}/").context["recipients"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/casework/mailings/{mailing.pk}/send/").status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["reader@example.org", "school@example.org"]
    mailing.refresh_from_db()
    assert mailing.status == "sent" and mailing.sent_on == timezone.localdate()
    assert [h.history_change_reason for h in mailing.history.order_by("history_id")] == [
        "casework.mailing.written",
        "casework.mailing.sending",
        "casework.mailing.sent",
    ]
    page = client.get(f"/casework/mailings/{mailing.pk}/")
    assert page.context["progress"] == {
        "total": 2,
        "done": 2,
        "sent": 2,
        "failed": 0,
        "unknown": 0,
        "skipped": 0,
        "waiting": 0,
        "percent": 100,
    }
    assert 'id="mailing-progress" max="2" value="2"' in page.content.decode()
    # Sending again is refused (409-like), and the worker run again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/casework/mailings/{mailing.pk}/send/")
    mailing_services.mailing_deliver(mailing.pk)
    assert len(mail.outbox) == 2
    # The unsubscribe link in the mail works, without signing in.
    message = next(m for m in mail.outbox if m.to == ["reader@example.org"])
    url = re.search(r"http\S+(/mailing-list/unsubscribe/\S+/)", message.body).group(1)
    assert message.extra_headers["List-Unsubscribe"].endswith(f"{url}>")
    client.logout()
    assert client.post(url).status_code == 200
    reader.refresh_from_db()
    assert reader.unsubscribed_on == timezone.localdate() and not reader.is_active


def test_a_crashed_worker_resumes_without_sending_anyone_twice(operator):
    first, second, third = (subscribed(f"s{i}@example.org", "family_support") for i in range(3))
    mailing = services.mailing_write(
        actor=operator, category=category("family_support"), subject="News", body="x"
    )
    services.mailing_send(mailing=mailing, actor=operator)  # no commit hook run: no worker yet
    # A worker claimed the first row and died after (perhaps) sending it.
    MailingDelivery.objects.filter(subscriber=first).update(
        status="sending", attempts=1, claimed_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert mailing_services.mailings_resume() == 1  # queued again (eager: sent now)
    assert sorted(m.to[0] for m in mail.outbox) == ["s1@example.org", "s2@example.org"]
    statuses = dict(MailingDelivery.objects.values_list("subscriber__email", "status"))
    assert statuses == {
        "s0@example.org": "unknown",
        "s1@example.org": "sent",
        "s2@example.org": "sent",
    }
    mailing.refresh_from_db()
    assert mailing.status == "sent"
    assert mailing_services.mailings_resume() == 0


def test_a_refused_send_is_tried_again_and_counted_as_failed_after_three(operator, monkeypatch):
    subscribed("a@example.org", "family_support")
    mailing = services.mailing_write(
        actor=operator, category=category("family_support"), subject="News", body="x"
    )
    services.mailing_send(mailing=mailing, actor=operator)

    def refuse(self, *args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert mailing_services.mailing_deliver(mailing.pk) == {"sent": 0, "failed": 1, "skipped": 0}
    delivery = MailingDelivery.objects.get()
    assert delivery.status == "failed" and delivery.attempts == 3


def test_only_the_helpline_writes_and_sends(client, teacher, supervisor):
    for user in (teacher, supervisor):
        with pytest.raises(PermissionDenied):
            services.mailing_write(
                actor=user, category=category("family_support"), subject="x", body="x"
            )
        client.force_login(user)
        assert client.get("/casework/mailings/").status_code == 403
    assert not Mailing.objects.exists()


def test_export_and_erasure_on_request(client, operator, teacher):
    subscriber = subscribed("erase.me@example.org", "family_support")
    client.force_login(teacher)
    assert client.get(f"/casework/subscribers/{subscriber.pk}/export/").status_code == 403
    assert client.post(f"/casework/subscribers/{subscriber.pk}/erase/").status_code == 403
    client.force_login(operator)
    exported = json.loads(client.get(f"/casework/subscribers/{subscriber.pk}/export/").content)
    assert exported["email"] == "erase.me@example.org"
    assert exported["categories"] == ["family_support"]
    old_token = subscriber.token
    assert client.post(f"/casework/subscribers/{subscriber.pk}/erase/").status_code == 302
    subscriber.refresh_from_db()
    assert subscriber.email == "" and subscriber.name == "" and subscriber.erased_at
    assert subscriber.unsubscribed_on == timezone.localdate()
    assert client.get(f"/mailing-list/unsubscribe/{old_token}/").status_code == 404
    assert not Subscriber.objects.filter(email__icontains="erase.me").exists()
