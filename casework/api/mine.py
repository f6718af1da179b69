"""/api/v1/notifications/ (the caller's own) and /api/v1/attachments/{id}/ (a document, to
whoever sees what it is attached to; every download logged)."""

from django.http import FileResponse, Http404
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import selectors, services
from casework.audit import log_access
from casework.models import Attachment, Notification

from . import serializers as s


class NotificationViewSet(viewsets.GenericViewSet):
    queryset = Notification.objects.none()  # described for the schema; reads: selectors
    """The caller's notifications, newest first. Nobody reads another's."""

    serializer_class = s.NotificationOut

    def get_queryset(self):
        return selectors.user_notifications(self.request.user)

    # The filter is the list's alone: marking one as read takes no `unread`.
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unread", str, enum=["1", "0"], description="1: unread only; 0: read only."
            )
        ]
    )
    def list(self, request):
        unread = request.query_params.get("unread")
        if unread not in (None, "", "0", "1"):
            raise serializers.ValidationError({"unread": [s.FLAG_MESSAGE]})
        rows = selectors.user_notifications(
            request.user, unread=None if unread in (None, "") else unread == "1"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.NotificationOut(page, many=True).data)

    @extend_schema(request=None, responses=s.NotificationOut)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark as read (again: no change)."""
        notification = selectors.user_notification(request.user, pk) if pk.isdigit() else None
        if notification is None:
            raise Http404
        notification = services.notification_mark_read(
            actor=request.user, notification=notification
        )
        return Response(s.NotificationOut(notification).data)


class AttachmentViewSet(viewsets.GenericViewSet):
    queryset = Attachment.objects.none()  # described for the schema; reads: selectors
    serializer_class = s.AttachmentOut

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The document's bytes."
            )
        }
    )
    def retrieve(self, request, pk=None):
        """The document, to whoever sees the case or the referral it belongs to; logged."""
        attachment = selectors.attachment_for(request.user, pk)
        if attachment is None:
            raise Http404
        logged = (
            {"cases": [attachment.case_id]}
            if attachment.case_id
            else {"referrals": [attachment.referral_id]}
        )
        log_access(request, action="attachment.download", door="download", **logged)
        extension = services.ALLOWED_ATTACHMENT_TYPES.get(attachment.content_type, "")
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=f"{slugify(attachment.title) or 'document'}{extension}",
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["Cache-Control"] = "no-store"
        return response
