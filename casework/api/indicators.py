"""/api/v1/indicators/: the yearly report as data (the same figures as the page and files)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import selectors


class IndicatorsView(APIView):
    """The yearly indicators: the administrator (whole network), a supervisor (their
    districts), a helpline operator (the helpline part: contacts, mailing list, mailings)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="Default: this year"),
            OpenApiParameter("district", str, description="District code"),
        ],
        responses={200: dict},
    )
    def get(self, request):
        year = request.query_params.get("year") or str(timezone.localdate().year)
        if not (year.isdigit() and 2000 <= int(year) <= timezone.localdate().year + 1):
            raise ValidationError({"year": [_("Give a year, such as 2025.")]})
        try:
            report = selectors.indicators_for(
                request.user,
                year=int(year),
                district_code=request.query_params.get("district") or None,
            )
        except selectors.UnknownDistrict as error:
            raise ValidationError({"district": [_("No district has this code.")]}) from error
        return Response(report)
