"""/api/v1/handovers/: the hand-over notes sent to the caller's schools (their referents),
and the acknowledgement."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import selectors, services
from casework.audit import log_access

from . import serializers as s


class HandOverViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hand-over notes for the schools whose referent the caller is."""

    serializer_class = s.HandOverOut

    def get_queryset(self):
        return selectors.handovers_received(self.request.user).order_by("-sent_at", "-pk")

    def get_object(self):
        handover = selectors.handover_for_school(self.request.user, self.kwargs["pk"])
        if handover is None:
            raise Http404
        return handover

    def retrieve(self, request, pk=None):
        handover = self.get_object()
        log_access(request, action="handover.view", children=[handover.case.child_id])
        return Response(s.HandOverOut(handover).data)

    @extend_schema(request=None, responses=s.HandOverOut)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The note reached the school (a referent of the receiving school). Twice: 409."""
        handover = self.get_object()
        done = services.handover_acknowledge(actor=request.user, handover=handover)
        return Response(s.HandOverOut(done).data)
