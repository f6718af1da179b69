"""What the pages share: the access helpers (an object the user may not see does not exist)
and the way a service's refusal becomes a message."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from casework import forms, permissions, selectors, services, trails
from casework.models import Case, Referral
from casework.services import TransitionNotAllowed


def visible_referral(request, pk) -> Referral:
    return get_object_or_404(
        selectors.referrals_visible_to(request.user).select_related(
            "child",
            "school",
            "district",
            "referrer",
            "claimed_by",
            "decided_by",
            "contact_person",
            "redirected_to",
            "case",
        ),
        pk=pk,
    )


def visible_case(request, pk) -> Case:
    return get_object_or_404(
        selectors.cases_visible_to(request.user).select_related(
            "child", "district", "lead_worker", "plan"
        ),
        pk=pk,
    )


def apply(request, form, change):
    """Run a change; its refusals become messages next to the form's fields or at the top.
    Returns (result, True) or (None, False)."""
    try:
        return change(), True
    except ValidationError as error:
        if form is not None and hasattr(error, "error_dict"):
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.error(request, " ".join(error.messages))
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
    except PermissionDenied as error:
        messages.error(request, str(error) or _("You are not allowed to do this."))
    return None, False


def form_errors_as_messages(request, form) -> None:
    """A form posted from a page that shows several (the case page): its errors at the top."""
    for field, errors in form.errors.items():
        name = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{name}: {' '.join(errors)}" if name else " ".join(errors))


def error_summary(*forms) -> list[dict]:
    """Every error of the page's forms, in the order of the page: (the field's anchor, its
    label, the message), for the summary at the top that links to each field."""
    rows = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for message in form.non_field_errors():
            rows.append({"anchor": "", "label": "", "message": message})
        for field in form:
            for message in field.errors:
                rows.append({"anchor": _anchor(field), "label": field.label, "message": message})
    return rows


def _anchor(field) -> str:
    """The id of the first control of a field (a group of boxes or radios: the first one)."""
    widget = field.field.widget
    if (
        getattr(widget, "allow_multiple_selected", False)
        or getattr(widget, "input_type", "") == "radio"
    ):
        return f"{field.auto_id}_0"
    return field.auto_id


# --- break-glass on a trail -----------------------------------------------------------------


def unlock_context(request, values: bool, url_name: str, target) -> dict:
    """The history page's break-glass form, for an auditor who reads no values yet."""
    if values or not permissions.may_unlock_trail(request.user):
        return {}
    return {
        "unlock_form": forms.TrailUnlockForm(),
        "unlock_url": reverse(url_name, args=[target.pk]),
    }


def unlock_trail(request, *, referral=None, case=None):
    target = referral or case
    back = reverse(
        "casework:referral_history" if referral else "casework:case_history", args=[target.pk]
    )
    form = forms.TrailUnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the purpose and explain it."))
        return redirect(back)
    _result, ok = apply(
        request,
        form,
        lambda: services.trail_unlock(
            actor=request.user,
            referral=referral,
            case=case,
            address=request.META.get("REMOTE_ADDR") or None,
            path=request.path,
            **form.cleaned_data,
        ),
    )
    if ok:
        messages.warning(
            request,
            _(
                "The values of this trail are open to you for %(minutes)d minutes. Your purpose "
                "is recorded and the district's supervisors are told."
            )
            % {"minutes": settings.CASEWORK_TRAIL_UNLOCK_MINUTES},
        )
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect(back)


def render_trail(request, *, title, rows, obj, visible: bool, **extra):
    """An audit trail page: the rows in people's words, filtered by kind of event (?kind=).
    "Back" leads to the record for someone who may open it, else to the auditor's search (the
    auditor reads trails, not files: the record's own page would answer 404). `extra`: the
    break-glass form's context (unlock_context)."""
    rows = trails.describe(rows)
    kind = request.GET.get("kind") or None
    back = obj.get_absolute_url() if visible else reverse("casework:audit_search")
    return render(
        request,
        "casework/history.html",
        {
            "title": title,
            "rows": trails.of_kind(rows, kind),
            "kinds": trails.kinds(rows),
            "kind": kind,
            "back_url": back,
            **extra,
        },
    )
