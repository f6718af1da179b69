"""The triage queue's filters, declared once for the page (casework/web/queue.py) and the API
(casework/api/queue.py): the same query string gives the same rows on both. The API's referral
and case lists have their own (ReferralFilter, CaseFilter).

The API refuses a value it does not know with a 400 naming the parameter; the page leaves
such a parameter out and applies the others."""

import datetime

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from . import selectors
from .models import Agency, Case, District, Referral, RiskLevel, Urgency

# Each sort key of the query string (`?sort=deadline`, `?sort=-age` for the reverse) and the
# columns it orders by; the tie-breakers keep the order stable from one page to the next.
QUEUE_SORTS = {
    "urgency": ("urgency_rank", "triage_due_at", "pk"),
    "deadline": ("triage_due_at", "urgency_rank", "pk"),
    "submitted": ("submitted_at", "pk"),
    # Youngest first: the later the birth date, the younger the child.
    "age": ("-child__date_of_birth", "urgency_rank", "pk"),
    "school": ("school__name", "urgency_rank", "triage_due_at", "pk"),
}
SORT_LABELS = {
    "urgency": _("Urgency, then deadline"),
    "deadline": _("Deadline"),
    "submitted": _("Date sent"),
    "age": _("Age, youngest first"),
    "school": _("School"),
}
SORT_CHOICES = list(SORT_LABELS.items())
DEFAULT_SORT = "urgency"


def _reversed(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


class QueueOrdering(django_filters.OrderingFilter):
    """django-filter's ordering (`sort=<key>` or `sort=-<key>`, the choices checked by the
    form, an unknown key refused by the API), where each key orders by several columns."""

    def __init__(self, **kwargs):
        super().__init__(
            fields={key: key for key in QUEUE_SORTS},
            field_labels=SORT_LABELS,
            **kwargs,
        )

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering: list[str] = []
        for param in value:
            descending = param.startswith("-")
            fields = QUEUE_SORTS[param.lstrip("-")]
            ordering += [_reversed(f) if descending else f for f in fields]
        return qs.order_by(*ordering)


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
    sort = QueueOrdering(label=_("Sort by"))

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

    def sort_key(self) -> str:
        """The sort in force, as the query string names it (the default when none or an
        unknown one is asked for)."""
        if not self.form.is_valid() and "sort" in self.form.errors:
            return DEFAULT_SORT
        chosen = self.form.cleaned_data.get("sort") or [DEFAULT_SORT]
        return chosen[0]


WAITING_FOR_TRIAGE = (Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE)


class ReferralFilter(django_filters.FilterSet):
    """The API's referral list narrowed. Applied to each scope's query of the list on its own
    (selectors.referrals_visible_page), never to their union. Needs the request."""

    status = django_filters.ChoiceFilter(choices=Referral.Status.choices, label=_("Status"))
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("Urgency"))
    school = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.filter(kind=Agency.Kind.SCHOOL), label=_("School")
    )
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.all(), to_field_name="code", label=_("District")
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at", label=_("Created (from, to)")
    )
    mine = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES, method="filter_mine", label=_("Written or claimed by me")
    )
    overdue = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES, method="filter_overdue", label=_("Past the triage deadline")
    )

    class Meta:
        model = Referral
        fields: list[str] = []

    def filter_mine(self, queryset, name, value: str):
        mine = Q(referrer=self.request.user) | Q(claimed_by=self.request.user)
        return queryset.filter(mine) if value == "1" else queryset.exclude(mine)

    def filter_overdue(self, queryset, name, value: str):
        overdue = Q(status__in=WAITING_FOR_TRIAGE, triage_due_at__lt=timezone.now())
        return queryset.filter(overdue) if value == "1" else queryset.exclude(overdue)


class CaseFilter(django_filters.FilterSet):
    """The API's case list narrowed. Needs the request."""

    status = django_filters.ChoiceFilter(choices=Case.Status.choices, label=_("Status"))
    risk_level = django_filters.ChoiceFilter(choices=RiskLevel.choices, label=_("Risk level"))
    district = django_filters.ModelChoiceFilter(
        queryset=District.objects.all(), to_field_name="code", label=_("District")
    )
    opened = django_filters.DateFromToRangeFilter(
        field_name="opened_at", label=_("Opened (from, to)")
    )
    mine = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES, method="filter_mine", label=_("I am the lead worker")
    )
    overdue = django_filters.ChoiceFilter(
        choices=FLAG_CHOICES, method="filter_overdue", label=_("Review overdue")
    )
    # Words in the case's reference, its district's name or its lead worker's name. Never the
    # child's name: a query string ends up in logs, and children's names never do.
    search = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        label=_("Reference, district or lead worker"),
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("next_review_at", "next_review"),
            ("opened_at", "opened"),
            ("reference", "reference"),
        ),
        label=_("Order by (a minus sign for the reverse)"),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_search(self, queryset, name, value: str):
        for word in value.split()[:5]:
            queryset = queryset.filter(
                Q(reference__icontains=word)
                | Q(district__name__icontains=word)
                | Q(lead_worker__first_name__icontains=word)
                | Q(lead_worker__last_name__icontains=word)
                | Q(lead_worker__username__iexact=word)
            )
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.form.cleaned_data.get("ordering"):
            # A stable order from one page to the next: the id breaks ties.
            queryset = queryset.order_by(*queryset.query.order_by, "pk")
        return queryset

    def filter_mine(self, queryset, name, value: str):
        mine = Q(lead_worker=self.request.user)
        return queryset.filter(mine) if value == "1" else queryset.exclude(mine)

    def filter_overdue(self, queryset, name, value: str):
        overdue = Q(status=Case.Status.OPEN, next_review_at__lt=timezone.now())
        return queryset.filter(overdue) if value == "1" else queryset.exclude(overdue)
