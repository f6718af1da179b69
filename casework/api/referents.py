"""/api/v1/referents/: who to call in the network — every member reads the active referents;
an agency's referents and coordinators add and change their own agency's
(services.referent_save checks it: another agency's answers 403)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import permissions, selectors, services
from casework.models import Agency, Referent

from .inputs import Input, Line


class ReferentOut(serializers.ModelSerializer):
    agency_name = serializers.CharField(source="agency.name", read_only=True)

    class Meta:
        model = Referent
        fields = [
            "id",
            "agency",
            "agency_name",
            "topic",
            "school",
            "name",
            "role_title",
            "phone",
            "email",
            "hours",
            "active",
        ]


class ReferentInput(Input):
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    topic = serializers.ChoiceField(choices=Referent.Topic.choices)
    school = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.filter(kind=Agency.Kind.SCHOOL),
        required=False,
        allow_null=True,
        help_text=_("A school this referent is for; none: every school of the district."),
    )
    name = Line(max_length=200)
    role_title = Line(max_length=200, required=False, allow_blank=True)
    phone = Line(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    hours = Line(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


def _save(request, referent: Referent, values: dict, code=status.HTTP_200_OK):
    for name, value in values.items():
        setattr(referent, name, value)
    services.referent_save(actor=request.user, referent=referent)
    return Response(ReferentOut(referent).data, status=code)


@extend_schema(
    parameters=[
        OpenApiParameter("district", str, description="District code"),
        OpenApiParameter("topic", str, enum=Referent.Topic.values),
        OpenApiParameter("q", str, description="Words in the name, the agency or the school"),
    ]
)
class ReferentsView(ListAPIView):
    """The network's active referents (every member); `POST` adds one to the caller's agency."""

    serializer_class = ReferentOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referent.objects.none()
        if not permissions.reads_referents(self.request.user):
            raise PermissionDenied
        params = self.request.query_params
        topic = params.get("topic") or None
        if topic and topic not in Referent.Topic.values:
            raise serializers.ValidationError({"topic": [_("Not a topic.")]})
        return selectors.referents(
            district=params.get("district") or None,
            topic=topic,
            q=(params.get("q") or "")[:100] or None,
        )

    @extend_schema(request=ReferentInput, responses={201: ReferentOut})
    def post(self, request):
        if not permissions.referent_agency_ids(request.user):
            raise PermissionDenied
        data = ReferentInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _save(request, Referent(), data.validated_data, status.HTTP_201_CREATED)


class ReferentView(APIView):
    """One referent: read by every member (an active one; a withdrawn one by its keepers);
    changed by its own agency's keepers (`PATCH`, only the fields sent)."""

    def _find(self, request, pk, *, keeping: bool) -> Referent:
        kept = selectors.referents_kept_by(request.user).filter(pk=pk).first()
        if kept is not None or keeping:
            if kept is None:
                raise Http404
            return kept
        if not permissions.reads_referents(request.user):
            raise PermissionDenied
        found = selectors.referents().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    @extend_schema(responses=ReferentOut)
    def get(self, request, pk):
        return Response(ReferentOut(self._find(request, pk, keeping=False)).data)

    @extend_schema(request=ReferentInput(partial=True), responses=ReferentOut)
    def patch(self, request, pk):
        if not permissions.referent_agency_ids(request.user):
            raise PermissionDenied
        referent = self._find(request, pk, keeping=True)
        data = ReferentInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return _save(request, referent, data.validated_data)
