"""/api/v1/transfers/: the case transfers the caller may read (permissions.reads_transfer),
and the receiving supervisor's decision."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import permissions, selectors, services
from casework.audit import log_access
from protocols import steps

from . import serializers as s


class TransferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Transfers to or from the districts the caller supervises, those they asked for, and
    those of the cases they lead."""

    serializer_class = s.TransferOut

    def get_queryset(self):
        return selectors.transfers_visible_to(self.request.user).order_by("-requested_at", "-pk")

    def get_object(self):
        transfer = selectors.transfer_for(self.request.user, self.kwargs["pk"])
        if transfer is None:
            raise Http404
        return transfer

    @extend_schema(request=s.TransferDecisionInput, responses=s.TransferOut)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Accept (with the new lead worker) or refuse (with the reason): the receiving
        district's supervisor. Decided already: 409."""
        transfer = self.get_object()
        if not permissions.can_decide_transfer(request.user, transfer):
            raise PermissionDenied
        data = s.TransferDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        decided = steps.move_lead(
            "case.transfer_decide",
            case=transfer.case,
            actor=request.user,
            transfer=transfer,
            **data.validated_data,
        )
        if decided.status == decided.Status.ACCEPTED:
            log_access(request, action="case.change", cases=[decided.case_id])
        return Response(s.TransferOut(decided).data)

    @extend_schema(request=None, responses=s.TransferOut)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The sending side withdraws a request not yet decided."""
        transfer = self.get_object()
        withdrawn = services.case_transfer_withdraw(actor=request.user, transfer=transfer)
        return Response(s.TransferOut(withdrawn).data)
