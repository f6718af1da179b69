"""/api/v1/indicators/: the yearly report as data (the same figures as the page and files)."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import permissions, selectors


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
        scope = permissions.indicators_scope(request.user)
        if scope is None:
            raise PermissionDenied
        districts, whole = scope
        year = request.query_params.get("year") or str(timezone.localdate().year)
        if not (year.isdigit() and 2000 <= int(year) <= timezone.localdate().year + 1):
            raise ValidationError({"year": [_("Give a year, such as 2025.")]})
        code = request.query_params.get("district") or None
        chosen = None
        if code:
            chosen = selectors.districts().filter(code=code).first()
            if chosen is None:
                raise ValidationError({"district": [_("No district has this code.")]})
            if districts is not None and not districts.filter(pk=chosen.pk).exists():
                raise PermissionDenied
            districts = [chosen]
        return Response(
            selectors.yearly_indicators(
                int(year),
                districts,
                unassigned=chosen is None,
                parts=selectors.REPORT_PARTS if whole else selectors.HELPLINE_PARTS,
                district_code=code,
            )
        )
