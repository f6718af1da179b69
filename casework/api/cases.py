"""/api/v1/cases/: the cases the caller works on or supervises, their changes (the plan, an
action, a team member, a review, the closure) and their trail."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from casework import permissions, selectors, services
from casework.audit import access_report, log_access
from casework.filters import CaseFilter
from casework.models import Action, Case, CaseTeamMember, Review
from protocols import steps

from . import serializers as s
from .family import FamilyActions
from .trails import unlock_trail


def _sub(rows, pk):
    """A row under the case (an action, a team member) by its id; another case's is 404."""
    found = rows.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


def upload(request, **target):
    """A multipart upload through services.attachment_add (the page's checks)."""
    data = s.AttachmentInput(data=request.data)
    data.is_valid(raise_exception=True)
    attachment = services.attachment_add(
        actor=request.user,
        upload=data.validated_data["file"],
        title=data.validated_data["title"],
        **target,
    )
    return Response(s.AttachmentOut(attachment).data, status=status.HTTP_201_CREATED)


class CaseViewSet(
    FamilyActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
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

    def _paged(self, rows, serializer):
        """A page of a case's rows (its trail, its notes): `page`, `page_size` as every list."""
        page = self.paginator.paginate_queryset(rows, self.request, view=self)
        return self.paginator.get_paginated_response(serializer(page, many=True).data)

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

    @extend_schema(
        request=s.ActionUpdateInput,
        responses=s.ActionOut,
        parameters=[OpenApiParameter("action_pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["patch"], url_path=r"actions/(?P<action_pk>[^/.]+)")
    def action_update(self, request, pk=None, action_pk=None):
        """An action's status and a progress note (the team, while the case is open)."""
        case = self.get_object()
        found = _sub(Action.objects.filter(plan__case=case), action_pk)
        data = s.ActionUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.action_update(actor=request.user, action=found, **data.validated_data)
        return Response(s.ActionOut(changed).data)

    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[OpenApiParameter("member_pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["delete"], url_path=r"team/(?P<member_pk>[^/.]+)")
    def team_remove(self, request, pk=None, member_pk=None):
        """A professional leaves the team (the lead worker or the supervisor); the lead
        worker cannot be removed, and someone who has left answers 409."""
        case = self.get_object()
        member = _sub(CaseTeamMember.objects.filter(case=case), member_pk)
        services.case_remove_member(actor=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=s.CaseCandidates)
    @action(detail=True, methods=["get"])
    def candidates(self, request, pk=None):
        """Whom the caller may name on this case: people for the team and for actions, and
        the agencies (those of the case's district; any for the district's supervisor)."""
        case = self.get_object()
        if not permissions.can_work_case(request.user, case):
            raise PermissionDenied
        anywhere = permissions.is_supervisor(request.user, case)
        found = {
            "team": selectors.team_candidates(case, any_district=anywhere),
            "action_owners": selectors.action_owner_candidates(case),
            "agencies": selectors.agencies(None if anywhere else case.district_id).select_related(
                "district"
            ),
        }
        return Response(s.CaseCandidates(found).data)

    @extend_schema(methods=["get"], request=None, responses=s.NoteOut(many=True))
    @extend_schema(methods=["post"], request=s.NoteInput, responses={201: s.NoteOut})
    @action(detail=True, methods=["get", "post"])
    def notes(self, request, pk=None):
        """The case's chronology notes (the team and the supervisor); writing one while the
        case is open."""
        case = self.get_object()
        if not permissions.can_work_case(request.user, case):
            raise PermissionDenied
        if request.method == "POST":
            data = s.NoteInput(data=request.data)
            data.is_valid(raise_exception=True)
            note = services.case_add_note(actor=request.user, case=case, **data.validated_data)
            return Response(s.NoteOut(note).data, status=status.HTTP_201_CREATED)
        log_access(request, action="case.notes", cases=[case])
        return self._paged(selectors.case_notes(case), s.NoteOut)

    @extend_schema(methods=["get"], request=None, responses=s.AttachmentOut(many=True))
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": s.AttachmentInput},
        responses={201: s.AttachmentOut},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
    )
    def attachments(self, request, pk=None):
        """The case's documents; uploading one (multipart: `title`, `file`) with the same
        checks as the page: the type is read from the bytes, the size is limited."""
        case = self.get_object()
        if not permissions.can_work_case(request.user, case):
            raise PermissionDenied
        if request.method == "POST":
            return upload(request, case=case)
        log_access(request, action="case.attachments", cases=[case])
        return self._paged(selectors.attachments_of(case=case), s.AttachmentOut)

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

    @extend_schema(request=s.BringForwardInput, responses=s.CaseDetail)
    @action(detail=True, methods=["post"], url_path="reviews/forward")
    def reviews_forward(self, request, pk=None):
        """The lead worker or the supervisor brings the next periodic review forward (the
        page's "bring forward"): `review_on` today makes it due at once, so that the team can
        review, or propose closing, without waiting for the date the risk level set."""
        case = self.get_object()
        data = s.BringForwardInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # the read-log row commits with the change
            steps.run_step(
                "case.bring_review_forward", obj=case, actor=request.user, **data.validated_data
            )
            return self._detail(case)

    @extend_schema(request=s.CloseInput, responses=s.CaseDetail)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        case = self.get_object()
        data = s.CloseInput(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # the read-log row commits with the change
            steps.closure(case=case, actor=request.user, **data.validated_data)
            return self._detail(case)

    @extend_schema(request=s.ChangeLeadInput, responses=s.TransferOut)
    @action(detail=True, methods=["post"])
    def lead(self, request, pk=None):
        """The district supervisor hands the case to another worker of the district: the
        previous lead leaves the team and loses access; the case's open tasks follow."""
        case = self.get_object()
        data = s.ChangeLeadInput(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = steps.move_lead(
            "case.change_lead", case=case, actor=request.user, **data.validated_data
        )
        return Response(s.TransferOut(transfer).data)

    @extend_schema(methods=["get"], request=None, responses=s.TransferOut(many=True))
    @extend_schema(methods=["post"], request=s.TransferRequestInput, responses={201: s.TransferOut})
    @action(detail=True, methods=["get", "post"])
    def transfers(self, request, pk=None):
        """The case's moves (lead changes, transfers); asking another district to take the
        case over (the lead worker or the supervisor)."""
        case = self.get_object()
        if request.method == "POST":
            data = s.TransferRequestInput(data=request.data)
            data.is_valid(raise_exception=True)
            transfer = services.case_transfer_request(
                actor=request.user, case=case, **data.validated_data
            )
            return Response(s.TransferOut(transfer).data, status=status.HTTP_201_CREATED)
        if not permissions.can_work_case(request.user, case):
            raise PermissionDenied
        return self._paged(selectors.case_transfers(case), s.TransferOut)

    @extend_schema(methods=["get"], request=None, responses=s.HandOverOut(many=True))
    @extend_schema(methods=["post"], request=s.HandOverInput, responses={201: s.HandOverOut})
    @action(detail=True, methods=["get", "post"])
    def handovers(self, request, pk=None):
        """Hand-over notes to a receiving school at a school-grade transition (the team)."""
        case = self.get_object()
        if not permissions.can_send_handover(request.user, case):
            raise PermissionDenied
        if request.method == "POST":
            data = s.HandOverInput(data=request.data)
            data.is_valid(raise_exception=True)
            handover = services.handover_send(actor=request.user, case=case, **data.validated_data)
            return Response(s.HandOverOut(handover).data, status=status.HTTP_201_CREATED)
        return self._paged(selectors.case_handovers(case), s.HandOverOut)

    @extend_schema(responses=s.HistoryRow(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        case = selectors.case_for_trail(request.user, pk)
        log_access(request, action="case.history", cases=[case])
        values = permissions.reads_case_history_values(request.user, case)
        rows = selectors.case_history(case, values=values)
        return self._paged(rows, s.HistoryRow)

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
        return self._paged(access_report(case), s.AccessRow)
