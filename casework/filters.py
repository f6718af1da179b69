"""The triage queue's filters, declared once for the page (casework/web/queue.py) and the API
(casework/api/queue.py): the same query string gives the same rows on both.

The API refuses a value it does not know with a 400 naming the parameter; the page leaves
such a parameter out and applies the others."""

import datetime

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import Agency, Referral, Urgency

QUEUE_SORTS = {
    "urgency": ("urgency_rank", "triage_due_at", "pk"),
    "deadline": ("triage_due_at", "urgency_rank", "pk"),
    "submitted": ("submitted_at", "pk"),
}
SORT_CHOICES = [
    ("urgency", _("Urgency, then deadline")),
    ("deadline", _("Deadline")),
    ("submitted", _("Date sent")),
]
# A checkbox sends "1"; "0" asks for the opposite.
FLAG_CHOICES = [("1", _("Yes")), ("0", _("No"))]


class YearsFilter(django_filters.Filter):
    field_class = forms.IntegerField


def _schools(request):
    if request is None:  # the API's schema is described without a caller
        return Agency.objects.none()
    return selectors.queue_schools(request.user)


def years_ago(years: int, today: datetime.date) -> datetime.date:
    """The date `years` years before `today` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


class QueueFilter(django_filters.FilterSet):
    """The caller's queue (selectors.triage_queue) narrowed and sorted. Needs the request."""

    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("Urgency"))
    school = django_filters.ModelChoiceFilter(queryset=_schools, label=_("School"))
    overdue = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES,
        method="filter_overdue",
        label=_("Overdue only"),
    )
    mine = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES, method="filter_mine", label=_("Claimed by me")
    )
    age_min = YearsFilter(method="filter_age_min", min_value=0, max_value=25, label=_("Age from"))
    age_max = YearsFilter(method="filter_age_max", min_value=0, max_value=25, label=_("Age to"))
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="sort_by", label=_("Sort by"))

    class Meta:
        model = Referral
        fields: list[str] = []  # the filters above, and nothing else

    def filter_overdue(self, queryset, name, value: str):
        overdue = dict(triage_due_at__lt=timezone.now())
        return queryset.filter(**overdue) if value == "1" else queryset.exclude(**overdue)

    def filter_mine(self, queryset, name, value: str):
        mine = dict(claimed_by=self.request.user)
        return queryset.filter(**mine) if value == "1" else queryset.exclude(**mine)

    def filter_age_min(self, queryset, name, value: int):
        """At least `value` years old today: born on or before that birthday."""
        return queryset.filter(child__date_of_birth__lte=years_ago(value, timezone.localdate()))

    def filter_age_max(self, queryset, name, value: int):
        """At most `value` years old today: not yet `value` + 1."""
        return queryset.filter(child__date_of_birth__gt=years_ago(value + 1, timezone.localdate()))

    def sort_by(self, queryset, name, value: str):
        return queryset.order_by(*QUEUE_SORTS[value])
