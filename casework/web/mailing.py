"""The mailing list: the public subscription pages (no sign-in; the link's random token is
the only key) and the helpline's pages to write and send mailings."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, permissions, selectors, services
from casework.models import Mailing, Subscriber
from casework.services.mailing import recipients_of

from .common import apply


@login_not_required
def subscribe(request):
    form = forms.SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _result, ok = apply(
            request,
            form,
            lambda: services.subscriber_request(
                kind=data["kind"],
                institution_type=data["institution_type"],
                name=data["name"],
                email=data["email"],
                district=data["district"],
                categories=data["categories"],
                consent_text=str(forms.CONSENT_TEXT),
                language=translation.get_language() or "",
            ),
        )
        if ok:
            # The same answer whether the address was new or known: the page tells nobody
            # who is on the list.
            return render(
                request,
                "casework/mailing/message.html",
                {
                    "heading": _("Check your e-mail"),
                    "text": _(
                        "We sent a message with a link to confirm your subscription. Until "
                        "you confirm, you will receive nothing."
                    ),
                },
            )
    return render(request, "casework/mailing/subscribe.html", {"form": form})


def _subscriber(token: str) -> Subscriber:
    subscriber = selectors.subscriber_by_token(token)
    if subscriber is None:
        raise Http404
    return subscriber


@login_not_required
def confirm(request, token):
    """GET shows a button, POST confirms: a mail scanner that opens links confirms nothing."""
    subscriber = _subscriber(token)
    if request.method == "POST":
        services.subscriber_confirm(subscriber=subscriber)
        return render(
            request,
            "casework/mailing/message.html",
            {
                "heading": _("You are subscribed"),
                "text": _("Thank you. Every mail has a link to unsubscribe."),
            },
        )
    return render(
        request,
        "casework/mailing/message.html",
        {
            "heading": _("Confirm your subscription"),
            "text": _("Press the button to start receiving the family helpline's news."),
            "action": "confirm",
            "button": _("Confirm"),
        },
    )


@login_not_required
def unsubscribe(request, token):
    subscriber = _subscriber(token)
    if request.method == "POST":
        if request.POST.get("action") == "erase":
            services.subscriber_erase(subscriber=subscriber, actor=None)
            text = _("You are unsubscribed and your name and address are erased.")
        else:
            services.subscriber_unsubscribe(subscriber=subscriber)
            text = _("You will receive no more mail from the family helpline.")
        return render(
            request, "casework/mailing/message.html", {"heading": _("Unsubscribed"), "text": text}
        )
    return render(
        request,
        "casework/mailing/message.html",
        {
            "heading": _("Unsubscribe"),
            "text": _("Press the button to stop receiving the family helpline's news."),
            "action": "unsubscribe",
            "button": _("Unsubscribe"),
            "erase": True,
        },
    )


# --- the helpline's pages ------------------------------------------------------------------


def _helpline(request) -> None:
    if not permissions.can_manage_mailing_list(request.user):
        raise PermissionDenied


def mailing_list(request, form=None):
    _helpline(request)
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "casework/mailing/list.html",
        {
            "form": form or forms.MailingForm(),
            "mailings": selectors.mailings_list(),
            "subscribers": selectors.subscribers_list(q=q or None),
            "q": q,
        },
    )


@require_POST
def mailing_new(request):
    _helpline(request)
    form = forms.MailingForm(request.POST)
    if form.is_valid():
        mailing, ok = apply(
            request,
            form,
            lambda: services.mailing_write(actor=request.user, **form.cleaned_data),
        )
        if ok:
            return redirect("casework:mailing_detail", mailing.pk)
    return mailing_list(request, form=form)


def mailing_detail(request, pk):
    _helpline(request)
    mailing = get_object_or_404(Mailing.objects.select_related("category", "district"), pk=pk)
    return render(
        request,
        "casework/mailing/detail.html",
        {
            "mailing": mailing,
            "progress": selectors.mailing_progress(mailing),
            "recipients": recipients_of(mailing).count()
            if mailing.status == Mailing.Status.DRAFT
            else 0,
        },
    )


@require_POST
def mailing_send(request, pk):
    _helpline(request)
    mailing = get_object_or_404(Mailing, pk=pk)
    count, ok = apply(
        request, None, lambda: services.mailing_send(mailing=mailing, actor=request.user)
    )
    if ok:
        messages.success(request, _("Sending to %(n)s subscribers.") % {"n": count})
    return redirect("casework:mailing_detail", pk)


def subscriber_export(request, pk):
    """A subscriber's data, on their request (the right of access), as a JSON file."""
    _helpline(request)
    subscriber = get_object_or_404(Subscriber, pk=pk, erased_at__isnull=True)
    response = HttpResponse(
        json.dumps(selectors.subscriber_export(subscriber), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="subscriber-{subscriber.pk}.json"'
    return response


@require_POST
def subscriber_erase(request, pk):
    _helpline(request)
    subscriber = get_object_or_404(Subscriber, pk=pk, erased_at__isnull=True)
    services.subscriber_erase(subscriber=subscriber, actor=request.user)
    messages.success(request, _("The subscriber's personal data is erased."))
    return redirect("casework:mailing_list")
