"""/api/v1/cases/: the cases the caller works on or supervises, their changes (the plan, an
action, a team member, a review, the closure) and their trail."""

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import permissions, selectors, services
from casework.audit import access_report, log_access
from casework.filters import CaseFilter
from casework.models import Case, Review
from protocols import steps

from . import serializers as s
from .trails import unlock_trail


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases the caller works on (the team) or supervises (the district)."""

    serializer_class = s.CaseListItem
    filter_backends = [DjangoFilterBackend]
    filterset_class = CaseFilter

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset  # one case is found by its id alone
        return super().filter_queryset(queryset)

    def get_queryset(self):
        return (
            selectors.cases_visible_to(self.request.user)
            .select_related("district", "lead_worker", "child", "plan")
            .order_by("next_review_at", "pk")
        )

    def get_serializer_class(self):
        return s.CaseDetail if self.action == "retrieve" else s.CaseListItem

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        log_access(self.request, action="case.list", cases=[c.pk for c in page])
        return page

    def retrieve(self, request, pk=None):
        case = self.get_object()
        log_access(request, action="case.view", cases=[case])
        return Response(s.CaseDetail(case).data)

    def get_object(self):
        case = super().get_object()
        return Case.objects.select_related("plan", "district", "lead_worker", "child").get(
            pk=case.pk
        )

    def _detail(self, case, code=status.HTTP_200_OK):
        log_access(self.request, action="case.change", cases=[case])
        case = Case.objects.select_related("plan", "district", "lead_worker", "child").get(
            pk=case.pk
        )
        return Response(s.CaseDetail(case).data, status=code)

    @extend_schema(request=s.PlanInput, responses=s.CaseDetail)
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        case = self.get_object()
        data = s.PlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # the read-log row commits with the change
            steps.run_step("case.plan", obj=case, actor=request.user, **data.validated_data)
            return self._detail(case)

    @extend_schema(request=s.ActionInput, responses={201: s.ActionOut})
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        case = self.get_object()
        data = s.ActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.case_add_action(actor=request.user, case=case, **data.validated_data)
        return Response(s.ActionOut(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TeamMemberInput, responses={201: s.TeamMemberOut})
    @action(detail=True, methods=["post"])
    def team(self, request, pk=None):
        case = self.get_object()
        data = s.TeamMemberInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.case_add_member(actor=request.user, case=case, **data.validated_data)
        return Response(s.TeamMemberOut(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReviewInput, responses={201: s.ReviewOut})
    @action(detail=True, methods=["post"])
    def reviews(self, request, pk=None):
        case = self.get_object()
        data = s.ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        extraordinary = fields.pop("kind") == Review.Kind.EXTRAORDINARY
        step = "case.extraordinary_review" if extraordinary else "case.review"
        if not extraordinary:
            fields.pop("reason")
        review = steps.run_step(step, obj=case, actor=request.user, **fields)
        return Response(s.ReviewOut(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CloseInput, responses=s.CaseDetail)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        case = self.get_object()
        data = s.CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # the read-log row commits with the change
            steps.closure(case=case, actor=request.user, **data.validated_data)
            return self._detail(case)

    @extend_schema(responses=s.HistoryRow(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        case = selectors.case_for_trail(request.user, pk)
        log_access(request, action="case.history", cases=[case])
        values = permissions.reads_case_history_values(request.user, case)
        rows = selectors.case_history(case, values=values)
        return Response(s.HistoryRow(rows, many=True).data)

    @extend_schema(request=s.TrailUnlockInput, responses={201: s.TrailUnlockOut})
    @action(detail=True, methods=["post"], url_path="history/unlock")
    def history_unlock(self, request, pk=None):
        """Break-glass: an auditor states a purpose and reads the trail's values for a while."""
        case = selectors.case_for_trail(request.user, pk)
        return unlock_trail(request, case=case)

    @extend_schema(responses=s.AccessRow(many=True))
    @action(detail=True, methods=["get"])
    def access(self, request, pk=None):
        """Who has looked at this file (the case and the referrals it was opened from)."""
        case = selectors.case_for_trail(request.user, pk)
        log_access(request, action="case.access_report", cases=[case])
        return Response(s.AccessRow(access_report(case), many=True).data)
