"""What the pages share: the access helpers (an object the user may not see does not exist)
and the way a service's refusal becomes a message."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from casework import selectors
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
