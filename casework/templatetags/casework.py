from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from casework.audit import access_action_label

register = template.Library()

# The statuses in which a passed triage deadline is shown as overdue.
_TRIAGE_OPEN = ("submitted", "in_triage")


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def badges(referral, now):
    """The urgency badge of a referral, and "Overdue" past its triage deadline. A tag rather
    than an included template: the queue shows fifty of them, and an include per row was a
    third of the page's rendering time (docs/performance.md)."""
    html = format_html(
        '<span class="cw-badge cw-badge--{}">{}</span>',
        referral.urgency,
        referral.get_urgency_display(),
    )
    due = referral.triage_due_at
    if due and referral.status in _TRIAGE_OPEN and now and due < now:
        html += format_html('<span class="cw-badge cw-badge--overdue">{}</span>', _("Overdue"))
    return mark_safe(html)  # noqa: S308 - built with format_html above


@register.filter
def access_label(code):
    """What a read in the access log was, in words (casework.audit.ACCESS_ACTIONS)."""
    return access_action_label(code)


@register.filter
def reason_label(code):
    """A history row's reason code, in words (casework.audit.REASONS)."""
    from casework.audit import reason_label as label

    return label(code)
