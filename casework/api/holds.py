"""/api/v1/holds/: legal holds — the list a supervisor (their districts) or the data
protection officer (every hold) reads, placing one, lifting one (casework.services.retention)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import permissions, retention, services
from casework.models import LegalHold

from .inputs import Input, Text


class HoldOut(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    placed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    lifted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    in_place = serializers.BooleanField(read_only=True)

    class Meta:
        model = LegalHold
        fields = [
            "id",
            "kind",
            "object_id",
            "district",
            "reason",
            "placed_by",
            "placed_at",
            "in_place",
            "lifted_by",
            "lifted_at",
            "lift_reason",
        ]


class HoldIn(Input):
    kind = serializers.ChoiceField(choices=LegalHold.Kind.choices)
    object_id = serializers.IntegerField(min_value=1)
    reason = Text(max_length=2000)


class LiftIn(Input):
    reason = Text(max_length=2000)


class HoldViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Holds in place and lifted. A record under a hold is never purged."""

    serializer_class = HoldOut

    def get_queryset(self):
        return retention.holds_visible(self.request.user)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not permissions.may_place_any_hold(request.user):
            raise PermissionDenied

    @extend_schema(request=HoldIn, responses={201: HoldOut})
    def create(self, request):
        data = HoldIn(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.legal_hold_place(actor=request.user, **data.validated_data)
        return Response(HoldOut(hold).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LiftIn, responses={200: HoldOut})
    @action(detail=True, methods=["post"])
    def lift(self, request, pk=None):
        hold = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
        if hold is None:
            raise Http404
        data = LiftIn(data=request.data)
        data.is_valid(raise_exception=True)
        hold = services.legal_hold_lift(
            actor=request.user, hold=hold, reason=data.validated_data["reason"]
        )
        return Response(HoldOut(hold).data)
