"""/api/v1/queue/: the caller's triage queue, with the page's filters (casework.filters)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.generics import ListAPIView

from casework import permissions, selectors
from casework.audit import log_access
from casework.filters import QueueFilter
from casework.models import Referral

from . import serializers as s


class QueueView(ListAPIView):
    """The caller's triage queue: most urgent first, then the nearest deadline. Filtered and
    sorted as the queue page is; an unknown value answers 400 naming the parameter."""

    serializer_class = s.QueueItem
    filter_backends = [DjangoFilterBackend]
    filterset_class = QueueFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, described without a caller
            return Referral.objects.none()
        if not permissions.district_ids(self.request.user):
            raise PermissionDenied
        return selectors.triage_queue(self.request.user)

    def get_serializer_context(self):
        context = {**super().get_serializer_context(), "now": timezone.now()}
        if not getattr(self, "swagger_fake_view", False):
            context["shows_name"] = permissions.queue_name_checker(self.request.user)
        return context

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        log_access(self.request, action="queue", referrals=[r.pk for r in page])
        return page
