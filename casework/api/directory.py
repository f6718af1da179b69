"""/api/v1/services/: the directory of services."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView

from casework import selectors

from . import serializers as s


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
