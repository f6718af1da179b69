"""The REST API: thin views over casework.selectors (reads), casework.services and
protocols.steps (changes).
An object the caller may not see answers 404; a change the state does not allow answers 409."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from casework import permissions, selectors, services
from casework.audit import access_report, log_access
from casework.models import Case, Referral
from protocols import steps

from . import serializers as s


def _referral_out(request, referral: Referral, action: str = "referral.view"):
    log_access(request, action=action, referrals=[referral])
    if permissions.referral_view_level(request.user, referral) == "full":
        return s.ReferralFull(referral).data
    return s.ReferralForReferrer(referral).data


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referrals the caller may see: their own, their school's, their district's queue and
    those of their cases."""

    serializer_class = s.ReferralForReferrer

    def get_queryset(self):
        return (
            selectors.referrals_visible_to(self.request.user)
            .select_related(
                "child",
                "contact_person",
                "redirected_to",
                "district",
                "school",
                "referrer",
                "claimed_by",
                "decided_by",
                "case",
            )
            .prefetch_related("information_requests")
            .order_by("-created_at", "-pk")
        )

    def retrieve(self, request, pk=None):
        return Response(_referral_out(request, self.get_object()))

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        log_access(request, action="referral.list", referrals=[r.pk for r in page])
        full = selectors.full_view_checker(request.user)
        return self.get_paginated_response(
            [s.ReferralFull(r).data if full(r) else s.ReferralForReferrer(r).data for r in page]
        )

    @extend_schema(request=s.ReferralCreate, responses={201: s.ReferralForReferrer})
    def create(self, request):
        data = s.ReferralCreate(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        child_data = fields.pop("child")
        with transaction.atomic():
            school = services.referrer_school(request.user)
            child_data.setdefault("district", school.district)
            child = services.child_find_or_create(actor=request.user, school=school, **child_data)
            referral = services.referral_create_draft(actor=request.user, child=child, **fields)
        return Response(s.ReferralForReferrer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReferralForm, responses=s.ReferralForReferrer)
    def partial_update(self, request, pk=None):
        referral = self.get_object()
        data = s.ReferralForm(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        referral = services.referral_update_draft(
            actor=request.user, referral=referral, **data.validated_data
        )
        return Response(s.ReferralForReferrer(referral).data)

    @extend_schema(request=None, responses=s.ReferralForReferrer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        referral = self.get_object()
        if referral.referrer_id != request.user.pk:
            raise PermissionDenied
        referral = steps.run_step("referral.submit", obj=referral, actor=request.user)
        return Response(_referral_out(request, referral, "referral.submit"))

    @extend_schema(request=None, responses=s.ReferralForReferrer)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        referral = steps.run_step("referral.validate", obj=self.get_object(), actor=request.user)
        return Response(_referral_out(request, referral))

    @extend_schema(request=None, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        referral = steps.run_step("referral.claim", obj=self.get_object(), actor=request.user)
        return Response(_referral_out(request, referral))

    @extend_schema(request=None, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        referral = steps.run_step("referral.release", obj=self.get_object(), actor=request.user)
        return Response(_referral_out(request, referral))

    @extend_schema(request=s.DecisionInput, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        referral = self.get_object()
        if not permissions.can_triage(request.user, referral):
            raise PermissionDenied
        data = s.DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        steps.run_step(
            "referral.decide",
            obj=referral,
            actor=request.user,
            decision=data.validated_data["decision"],
            **data.service_arguments(),
        )
        referral.refresh_from_db()
        return Response(_referral_out(request, referral))

    @extend_schema(request=s.AnswerInput, responses=s.ReferralForReferrer)
    @action(detail=True, methods=["post"])
    def information(self, request, pk=None):
        referral = self.get_object()
        data = s.AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        referral = steps.run_step(
            "referral.answer",
            obj=referral,
            actor=request.user,
            answer=data.validated_data["answer"],
        )
        return Response(_referral_out(request, referral))

    @extend_schema(responses=s.HistoryRow(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        referral = selectors.referral_for_trail(request.user, pk)
        log_access(request, action="referral.history", referrals=[referral])
        return Response(s.HistoryRow(selectors.referral_history(referral), many=True).data)


class QueueView(ListAPIView):
    """The caller's triage queue: most urgent first, then the nearest deadline."""

    serializer_class = s.QueueItem

    def get_queryset(self):
        if not permissions.districts_for(self.request.user).exists():
            raise PermissionDenied
        return selectors.triage_queue(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        log_access(self.request, action="queue", referrals=[r.pk for r in page])
        return page


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases the caller works on (the team) or supervises (the district)."""

    serializer_class = s.CaseListItem

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
        review = steps.run_step("case.review", obj=case, actor=request.user, **data.validated_data)
        return Response(s.ReviewOut(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CloseInput, responses=s.CaseDetail)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        case = self.get_object()
        data = s.CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        steps.closure(case=case, actor=request.user, **data.validated_data)
        return self._detail(case)

    @extend_schema(responses=s.HistoryRow(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        case = selectors.case_for_trail(request.user, pk)
        log_access(request, action="case.history", cases=[case])
        return Response(s.HistoryRow(selectors.case_history(case), many=True).data)

    @extend_schema(responses=s.AccessRow(many=True))
    @action(detail=True, methods=["get"])
    def access(self, request, pk=None):
        """Who has looked at this file (the case and the referrals it was opened from)."""
        case = selectors.case_for_trail(request.user, pk)
        log_access(request, action="case.access_report", cases=[case])
        return Response(s.AccessRow(access_report(case), many=True).data)


@extend_schema(
    parameters=[
        OpenApiParameter("district", str, description="District code"),
        OpenApiParameter("kind", str),
        OpenApiParameter("age", int, description="Age of the child in years"),
        OpenApiParameter("q", str, description="Words in the name or description"),
    ]
)
class ServiceListView(ListAPIView):
    """The service directory, for everyone logged in."""

    serializer_class = s.ServiceOut

    def get_queryset(self):
        params = self.request.query_params
        age = params.get("age")
        if age is not None and not age.isdigit():
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"age": ["Enter a whole number of years."]})
        return selectors.services_directory(
            district=params.get("district"),
            kind=params.get("kind"),
            age=int(age) if age is not None else None,
            q=params.get("q"),
        )
