"""/api/v1/services/: the directory of services, read by everyone signed in; its district's
network coordinators add (`POST`) and change (`PATCH /services/{id}/`) its entries through
services.directory_entry_save, as on the pages."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import permissions, selectors, services
from casework.models import Agency, District, Service

from . import serializers as s
from .inputs import Input, Line, Text


class ServiceInput(Input):
    """An entry of the directory, as its district's coordinators write it."""

    name = Line(max_length=200)
    entry_type = serializers.ChoiceField(choices=Service.EntryType.choices, required=False)
    kind = serializers.ChoiceField(choices=Service.Kind.choices)
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all())
    neighbourhood = Line(max_length=100, required=False, allow_blank=True)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True
    )
    description = Text(required=False, allow_blank=True, max_length=20000)
    recurrence = serializers.ChoiceField(choices=Service.Recurrence.choices, required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    hours = Line(max_length=200, required=False, allow_blank=True)
    min_age = serializers.IntegerField(min_value=0, max_value=25, required=False)
    max_age = serializers.IntegerField(min_value=0, max_value=25, required=False)
    cost = Line(max_length=200, required=False, allow_blank=True)
    languages = Line(max_length=200, required=False, allow_blank=True)
    how_to_access = Text(required=False, allow_blank=True, max_length=20000)
    address = Line(max_length=300, required=False, allow_blank=True)
    phone = Line(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True, max_length=200)
    active = serializers.BooleanField(
        required=False, help_text=gettext_lazy("false: taken off the directory")
    )


def _save(request, service: Service, values: dict, code=status.HTTP_200_OK):
    for name, value in values.items():
        setattr(service, name, value)
    services.directory_entry_save(actor=request.user, service=service)
    return Response(s.ServiceOut(service).data, status=code)


@extend_schema(
    parameters=[
        OpenApiParameter("district", str, description="District code"),
        OpenApiParameter("kind", str),
        OpenApiParameter("age", int, description="Age of the child in years"),
        OpenApiParameter("q", str, description="Words in the name or description"),
        OpenApiParameter("type", str, description="service, project or event"),
        OpenApiParameter("neighbourhood", str),
    ]
)
class ServiceListView(ListAPIView):
    """The service directory, for everyone logged in."""

    serializer_class = s.ServiceOut

    def get_queryset(self):
        params = self.request.query_params
        age = params.get("age")
        if age is not None and not age.isdigit():
            raise ValidationError({"age": [_("Enter a whole number of years.")]})
        return selectors.services_directory(
            district=params.get("district"),
            kind=params.get("kind"),
            age=int(age) if age is not None else None,
            q=params.get("q"),
            entry_type=params.get("type"),
            neighbourhood=params.get("neighbourhood"),
        )

    @extend_schema(request=ServiceInput, responses={201: s.ServiceOut}, parameters=[])
    def post(self, request):
        if not permissions.keeps_any_directory(request.user):
            raise PermissionDenied
        data = ServiceInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _save(request, Service(), data.validated_data, status.HTTP_201_CREATED)


class ServiceKeptView(ListAPIView):
    """The keepers' working list (the page "services/kept/"): every entry of the districts
    whose directory the caller keeps, past and withdrawn ones too; anyone else 403."""

    serializer_class = s.ServiceOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Service.objects.none()
        if not permissions.keeps_any_directory(self.request.user):
            raise PermissionDenied
        return selectors.directory_kept_by(self.request.user)


class ServiceView(APIView):
    """One entry of the directory: read by everyone signed in (an active one; a withdrawn one
    by its keepers), changed by its district's coordinators (`PATCH`, the fields sent)."""

    def _find(self, request, pk, *, keeping: bool) -> Service:
        kept = selectors.directory_entry_for_keeper(request.user, pk)
        if kept is not None:
            return kept
        if keeping:
            raise Http404
        found = selectors.services_directory().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    @extend_schema(responses=s.ServiceOut)
    def get(self, request, pk):
        return Response(s.ServiceOut(self._find(request, pk, keeping=False)).data)

    @extend_schema(request=ServiceInput(partial=True), responses=s.ServiceOut)
    def patch(self, request, pk):
        if not permissions.keeps_any_directory(request.user):
            raise PermissionDenied
        service = self._find(request, pk, keeping=True)
        data = ServiceInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return _save(request, service, data.validated_data)
