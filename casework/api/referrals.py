"""/api/v1/referrals/: the referrals the caller may see, their form, their protocol steps and
their trail. A referral the caller may not see answers 404; a step the state does not allow, 409."""

import base64
import binascii
import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from casework import permissions, selectors, services
from casework.audit import log_access
from casework.filters import ReferralFilter
from casework.models import Referral
from protocols import steps

from . import serializers as s
from .cases import upload
from .paging import MAX_PAGE_SIZE, Pages, page_size
from .trails import unlock_trail


def _step(request, name: str, referral: Referral, action: str = "referral.view", **fields):
    """Run a protocol step and answer with the referral, the read-log row written in the
    step's transaction: a change is never committed without its record of who saw the result
    (and a failure to write that record undoes the change, safe to retry)."""
    with transaction.atomic():
        referral = steps.run_step(name, obj=referral, actor=request.user, **fields)
        return Response(_referral_out(request, referral, action))


def _referral_out(request, referral: Referral, action: str = "referral.view"):
    log_access(request, action=action, referrals=[referral])
    if permissions.referral_view_level(request.user, referral) == "full":
        return s.ReferralFull(referral).data
    return s.ReferralForReferrer(referral).data


def _paged(request, view, rows, serializer):
    """A page of a referral's rows (its trail, its documents): `page`, `page_size`."""
    page = view.paginator.paginate_queryset(rows, request, view=view)
    return view.paginator.get_paginated_response(serializer(page, many=True).data)


class NewestFirst(CursorPagination):
    """The referral list pages by position (`?cursor=`), newest first: no count of every
    visible referral, and a page further on costs what the first does. (What the schema
    describes; the list reads its page with selectors.referrals_visible_page.)"""

    ordering = selectors.NEWEST_FIRST
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


def _cursor_out(referral: Referral) -> str:
    raw = f"{referral.created_at.isoformat()}|{referral.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _cursor_in(value: str | None):
    """(created_at, pk) from a cursor this list handed out; anything else answers 400."""
    if not value:
        return None
    try:
        at, pk = base64.urlsafe_b64decode(value.encode()).decode().split("|")
        moment = datetime.datetime.fromisoformat(at)
        if timezone.is_naive(moment):
            raise ValueError(at)
        return moment, int(pk)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise serializers.ValidationError({"cursor": [_("This cursor is not valid.")]}) from None


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Referrals the caller may see: their own, their school's, their district's queue and
    those of their cases."""

    serializer_class = s.ReferralForReferrer
    pagination_class = NewestFirst
    # Described here for the schema; the list applies it to each scope's query itself.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReferralFilter

    def get_queryset(self):
        visible = selectors.referrals_visible_to(self.request.user)
        if self.action == "list":
            return visible.select_related("child", "school")
        return visible.select_related(
            "child",
            "contact_person",
            "redirected_to",
            "district",
            "school",
            "referrer",
            "claimed_by",
            "decided_by",
            "case",
        ).prefetch_related("information_requests", "child__guardians")

    def get_serializer_class(self):
        return s.ReferralListItem if self.action == "list" else s.ReferralForReferrer

    def filter_queryset(self, queryset):
        return queryset  # one referral is found by its id alone; the list filters per scope

    @extend_schema(responses=s.ReferralView)
    def retrieve(self, request, pk=None):
        return Response(_referral_out(request, self.get_object()))

    def list(self, request):
        size = page_size(request, self.paginator.page_size)
        filters = ReferralFilter(
            request.query_params, queryset=Referral.objects.none(), request=request
        )
        if not filters.is_valid():
            raise translate_validation(filters.errors)
        rows = selectors.referrals_visible_page(
            request.user,
            after=_cursor_in(request.query_params.get("cursor")),
            size=size,
            filters=filters.filter_queryset,
        )
        page = rows[:size]
        log_access(request, action="referral.list", referrals=[r.pk for r in page])
        following = None
        if len(rows) > size:
            url = request.build_absolute_uri()
            following = replace_query_param(url, "cursor", _cursor_out(page[-1]))
        return Response(
            {
                "next": following,
                "previous": None,
                "results": s.ReferralListItem.rows(page),
            }
        )

    @extend_schema(
        request=s.ReferralCreate,
        responses={201: s.ReferralForReferrer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Up to 64 characters chosen by the caller. A retried POST with the same key "
                    "(same user) answers the referral the first one made, and makes no second."
                ),
            )
        ],
    )
    def create(self, request):
        data = s.ReferralCreate(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        child_data = fields.pop("child")
        referral, _created = services.referral_create_with_child(
            actor=request.user,
            child=child_data,
            idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
            **fields,
        )
        # The same answer as the first time: the retry learns the referral it made.
        return Response(s.ReferralForReferrer(referral).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReferralPatch, responses=s.ReferralForReferrer)
    def partial_update(self, request, pk=None):
        referral = self.get_object()
        data = s.ReferralPatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        child = fields.pop("child", None)
        with transaction.atomic():
            if child:
                services.child_update_draft(actor=request.user, referral=referral, **child)
            referral = services.referral_update_draft(
                actor=request.user, referral=referral, **fields
            )
        return Response(s.ReferralForReferrer(referral).data)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def delete(self, request, pk=None):
        """The author throws a draft away (kept with its history, gone from every list); a
        referral already sent answers 409."""
        services.referral_delete_draft(actor=request.user, referral=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

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
        pagination_class=Pages,
    )
    def attachments(self, request, pk=None):
        """The referral's documents; the author uploads one while it is a draft (multipart:
        `title`, `file`; the same checks as the page)."""
        referral = self.get_object()
        if request.method == "POST":
            return upload(request, referral=referral)
        log_access(request, action="referral.attachments", referrals=[referral])
        rows = selectors.attachments_of(referral=referral)
        return _paged(request, self, rows, s.AttachmentOut)

    @extend_schema(request=None, responses=s.ReferralView)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Safe to repeat: the author submitting an already-submitted referral again gets
        200 and its current state (steps.submit_referral)."""
        referral = self.get_object()
        if referral.referrer_id != request.user.pk:
            raise PermissionDenied
        with transaction.atomic():
            referral, done = steps.submit_referral(referral=referral, actor=request.user)
            action = "referral.submit" if done else "referral.view"
            return Response(_referral_out(request, referral, action))

    @extend_schema(request=None, responses=s.ChildMatch(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def matches(self, request, pk=None):
        """Children the district's team knows who may be this referral's child (triage only;
        empty once the identity is settled)."""
        referral = self.get_object()
        if not permissions.can_triage(request.user, referral):
            raise PermissionDenied
        found = selectors.child_identity(referral)["matches"]
        log_access(
            request,
            action="referral.matches",
            referrals=[referral],
            children=[m["child"] for m in found],
            cases=[c for m in found for c in m["child"].match_cases],
        )
        return Response(s.ChildMatch(found, many=True).data)

    @extend_schema(request=s.ChildLinkInput, responses=s.ReferralFull)
    @action(detail=True, methods=["post"], url_path="child/link")
    def child_link(self, request, pk=None):
        """The child is one of the possible matches: link the referral's record to it."""
        referral = self.get_object()
        if not permissions.can_triage(request.user, referral):
            raise PermissionDenied
        data = s.ChildLinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.child_link(
            actor=request.user, referral=referral, known=data.validated_data["child"]
        )
        referral.refresh_from_db()
        return Response(_referral_out(request, referral))

    @extend_schema(request=None, responses=s.ReferralFull)
    @action(detail=True, methods=["post"], url_path="child/new")
    def child_new(self, request, pk=None):
        """The child is not one the service knew: the record as typed becomes the child's."""
        referral = self.get_object()
        services.child_confirm_new(actor=request.user, referral=referral)
        referral.refresh_from_db()
        return Response(_referral_out(request, referral))

    @extend_schema(request=None, responses=s.ReferralView)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        return _step(request, "referral.validate", self.get_object())

    @extend_schema(request=None, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        return _step(request, "referral.claim", self.get_object())

    @extend_schema(request=None, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return _step(request, "referral.release", self.get_object())

    @extend_schema(request=s.DecisionInput, responses=s.ReferralFull)
    @action(detail=True, methods=["post"])
    def decision(self, request, pk=None):
        referral = self.get_object()
        if not permissions.can_triage(request.user, referral):
            raise PermissionDenied
        data = s.DecisionInput(data=request.data, referral=referral)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            steps.run_step(
                "referral.decide",
                obj=referral,
                actor=request.user,
                decision=data.validated_data["decision"],
                **data.service_arguments(),
            )
            referral.refresh_from_db()
            return Response(_referral_out(request, referral))

    @extend_schema(request=s.AnswerInput, responses=s.ReferralView)
    @action(detail=True, methods=["post"])
    def information(self, request, pk=None):
        referral = self.get_object()
        data = s.AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        return _step(request, "referral.answer", referral, answer=data.validated_data["answer"])

    @extend_schema(responses=s.HistoryRow(many=True))
    @action(detail=True, methods=["get"], pagination_class=Pages)
    def history(self, request, pk=None):
        referral = selectors.referral_for_trail(request.user, pk)
        log_access(request, action="referral.history", referrals=[referral])
        values = permissions.reads_referral_history_values(request.user, referral)
        rows = selectors.referral_history(referral, values=values)
        return _paged(request, self, rows, s.HistoryRow)

    @extend_schema(request=s.TrailUnlockInput, responses={201: s.TrailUnlockOut})
    @action(detail=True, methods=["post"], url_path="history/unlock")
    def history_unlock(self, request, pk=None):
        """Break-glass: an auditor states a purpose and reads the trail's values for a while."""
        referral = selectors.referral_for_trail(request.user, pk)
        return unlock_trail(request, referral=referral)
