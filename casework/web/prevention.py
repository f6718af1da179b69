"""Around the referral: consultations (a school asks before it refers, naming no child), the
triage team's pattern alerts, and the district's network tables."""

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from casework import forms, permissions, prevention, selectors, services
from casework.models import (
    AgeBand,
    Agency,
    ConcernCategory,
    Consultation,
    MeetingAction,
    NetworkMeeting,
)

from .common import apply, error_summary

# --- forms --------------------------------------------------------------------------------


class ConsultationForm(django_forms.Form):
    age_band = django_forms.ChoiceField(
        label=gettext_lazy("Age of the child"), choices=AgeBand.choices
    )
    concern_categories = django_forms.MultipleChoiceField(
        label=gettext_lazy("Areas of concern"),
        choices=ConcernCategory.choices,
        widget=django_forms.CheckboxSelectMultiple,
    )
    question = django_forms.CharField(
        label=gettext_lazy("The situation and your question"),
        help_text=gettext_lazy(
            "Do not write the child's or the family's names: the social team advises on the "
            "situation. If you then refer the child, you name them in the referral."
        ),
        widget=django_forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
    )


class MessageForm(django_forms.Form):
    body = django_forms.CharField(
        label=gettext_lazy("Message"),
        widget=django_forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )


class AlertForm(django_forms.Form):
    action = django_forms.ChoiceField(
        choices=[
            ("acknowledge", gettext_lazy("Acknowledge")),
            ("dismiss", gettext_lazy("Dismiss")),
        ]
    )
    note = django_forms.CharField(
        label=gettext_lazy("What the team will do, or why it is not a pattern"),
        widget=django_forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    case_reference = django_forms.CharField(
        label=gettext_lazy("Case opened or linked (reference, optional)"),
        max_length=40,
        required=False,
    )


class MeetingForm(django_forms.ModelForm):
    class Meta:
        model = NetworkMeeting
        fields = ["district", "held_on", "title", "agencies", "agenda", "minutes"]
        widgets = {
            "held_on": forms.DATE,
            "agencies": django_forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        districts = permissions.network_table_district_ids(user)
        self.fields["district"].queryset = self.fields["district"].queryset.filter(pk__in=districts)
        self.fields["agencies"].queryset = Agency.objects.filter(
            district_id__in=districts
        ).order_by("district__name", "name")


class MeetingActionForm(django_forms.Form):
    description = django_forms.CharField(label=gettext_lazy("Action"), max_length=300)
    owner_agency = django_forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Agency.objects.none()
    )
    owner_name = django_forms.CharField(
        label=gettext_lazy("Person"), max_length=120, required=False
    )
    due_on = django_forms.DateField(label=gettext_lazy("Due on"), required=False, widget=forms.DATE)

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_agency"].queryset = Agency.objects.filter(
            district_id=meeting.district_id
        ).order_by("name")


# --- consultations --------------------------------------------------------------------------


def _visible_consultation(request, pk) -> Consultation:
    return get_object_or_404(prevention.consultations_visible_to(request.user), pk=pk)


def consultation_list(request):
    user = request.user
    may_ask = permissions.may_ask_consultation(user)
    team = bool(permissions.district_ids(user, permissions.TRIAGE))
    if not (may_ask or team or permissions.school_ids(user, permissions.SCHOOL_VIEW)):
        raise PermissionDenied
    sort = request.GET.get("sort") or ("due" if team else "-asked")
    overdue = request.GET.get("overdue") == "1"
    status = request.GET.get("status") or None
    if status not in Consultation.Status.values:
        status = None
    return render(
        request,
        "casework/consultations/list.html",
        {
            "consultations": prevention.consultations_list(
                user, status=status, overdue=overdue, sort=sort
            )[:200],
            "may_ask": may_ask,
            "team": team,
            "sort": sort,
            "overdue": overdue,
            "status": status,
            "statuses": Consultation.Status.choices,
        },
    )


def consultation_new(request):
    if not permissions.may_ask_consultation(request.user):
        raise PermissionDenied
    form = ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        consultation, ok = apply(
            request,
            form,
            lambda: services.consultation_ask(actor=request.user, **form.cleaned_data),
        )
        if ok:
            messages.success(
                request,
                _("Your question is with the district's social team. They answer by %(day)s.")
                % {
                    "day": date_format(
                        timezone.localtime(consultation.answer_due_at), "SHORT_DATE_FORMAT"
                    )
                },
            )
            return redirect(consultation)
    return render(
        request,
        "casework/consultations/new.html",
        {"form": form, "errors": error_summary(form)},
    )


def consultation_detail(request, pk, message_form=None):
    consultation = _visible_consultation(request, pk)
    side = permissions.consultation_side(request.user, consultation)
    open_thread = consultation.status in (
        Consultation.Status.AWAITING,
        Consultation.Status.ANSWERED,
    )
    return render(
        request,
        "casework/consultations/detail.html",
        {
            "consultation": consultation,
            "thread": prevention.consultation_thread(consultation),
            "side": side,
            "message_form": (message_form or MessageForm()) if open_thread else None,
            "may_refer": open_thread
            and permissions.may_refer_consultation(request.user, consultation),
        },
    )


@require_POST
def consultation_message(request, pk):
    consultation = _visible_consultation(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.consultation_write(
                actor=request.user, consultation=consultation, body=form.cleaned_data["body"]
            ),
        )
        if ok:
            messages.success(request, _("Your message is in the thread."))
            return redirect(consultation)
    return consultation_detail(request, pk, message_form=form)


def consultation_refer(request, pk):
    """One step from the thread to a referral: the asker names the child (nothing else to
    type: the school, the areas of concern and the situation come from the consultation)."""
    consultation = _visible_consultation(request, pk)
    if not permissions.may_refer_consultation(request.user, consultation):
        raise PermissionDenied
    form = forms.ChildForm(request.POST or None, prefix="child")
    if request.method == "POST" and form.is_valid():
        child = {
            k: v
            for k, v in form.cleaned_data.items()
            if k in ("first_name", "last_name", "date_of_birth", "tax_code", "school_class")
            and v not in (None, "")
        }
        referral, ok = apply(
            request,
            form,
            lambda: services.consultation_refer(
                actor=request.user,
                consultation=consultation,
                child=child,
                idempotency_key=f"consultation-{consultation.pk}",
            ),
        )
        if ok:
            messages.success(
                request,
                _("A draft referral is ready with what you wrote. Check it and send it."),
            )
            return redirect("casework:referral_edit", referral.pk)
    return render(
        request,
        "casework/consultations/refer.html",
        {"consultation": consultation, "form": form, "errors": error_summary(form)},
    )


# --- pattern alerts -----------------------------------------------------------------------


@require_POST
def alert_handle(request, pk):
    """Acknowledge (with what the team will do, and the case if one was opened) or dismiss
    (with the reason): the district's triage team only; for anyone else it does not exist."""
    alert = get_object_or_404(prevention.alerts_for(request.user), pk=pk)
    form = AlertForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("casework:queue")
    data = form.cleaned_data
    case = None
    if data["case_reference"]:
        case = (
            selectors.cases_visible_to(request.user)
            .filter(reference=data["case_reference"].strip())
            .first()
        )
        if case is None:
            messages.error(request, _("No case with that reference in your districts."))
            return redirect("casework:queue")
    if data["action"] == "acknowledge":
        change = lambda: services.pattern_alert_acknowledge(  # noqa: E731
            actor=request.user, alert=alert, note=data["note"], case=case
        )
    else:
        change = lambda: services.pattern_alert_dismiss(  # noqa: E731
            actor=request.user, alert=alert, reason=data["note"]
        )
    _result, ok = apply(request, None, change)
    if ok:
        messages.success(request, _("The alert is handled."))
    return redirect("casework:queue")


# --- the district's network tables ------------------------------------------------------------


def _keeper(request) -> None:
    if not permissions.network_table_district_ids(request.user):
        raise PermissionDenied


def meeting_list(request):
    _keeper(request)
    return render(
        request,
        "casework/meetings/list.html",
        {"meetings": prevention.meetings_for(request.user)[:200]},
    )


def meeting_edit(request, pk=None):
    _keeper(request)
    meeting = None
    if pk is not None:
        meeting = prevention.meeting_for_keeper(request.user, pk)
        if meeting is None:
            raise Http404
    form = MeetingForm(request.POST or None, instance=meeting, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved, ok = apply(
            request,
            form,
            lambda: services.meeting_save(
                actor=request.user,
                meeting=form.instance,
                agencies=list(form.cleaned_data["agencies"]),
            ),
        )
        if ok:
            messages.success(request, _("The meeting is recorded."))
            return redirect(saved)
    return render(
        request,
        "casework/meetings/form.html",
        {"form": form, "meeting": meeting, "errors": error_summary(form)},
    )


def meeting_detail(request, pk, action_form=None):
    _keeper(request)
    meeting = prevention.meeting_for_keeper(request.user, pk)
    if meeting is None:
        raise Http404
    return render(
        request,
        "casework/meetings/detail.html",
        {
            "meeting": meeting,
            "action_form": action_form or MeetingActionForm(meeting=meeting),
            "statuses": MeetingAction.Status.choices,
        },
    )


@require_POST
def meeting_action_add(request, pk):
    _keeper(request)
    meeting = prevention.meeting_for_keeper(request.user, pk)
    if meeting is None:
        raise Http404
    form = MeetingActionForm(request.POST, meeting=meeting)
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.meeting_action_add(
                actor=request.user, meeting=meeting, **form.cleaned_data
            ),
        )
        if ok:
            messages.success(request, _("The action is recorded."))
            return redirect(meeting)
    return meeting_detail(request, pk, action_form=form)


@require_POST
def meeting_action_update(request, pk, action_pk):
    _keeper(request)
    meeting = prevention.meeting_for_keeper(request.user, pk)
    if meeting is None:
        raise Http404
    action = get_object_or_404(MeetingAction, pk=action_pk, meeting=meeting)
    status = request.POST.get("status")
    if status not in MeetingAction.Status.values:
        messages.error(request, _("Choose a status."))
        return redirect(meeting)
    apply(
        request,
        None,
        lambda: services.meeting_action_update(actor=request.user, action=action, status=status),
    )
    return redirect(meeting)
