"""One mapping from the domain's refusals to HTTP: 400 with field messages, 403, 404, 409 —
and every other error as JSON too: 500 with the request's id (the key to the log line) and
nothing else, whether it happened in an API view (`handle`) or before one (`server_error`)."""

import logging

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as page_bad_request
from django.views.defaults import server_error as page_server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from casework.services import TransitionNotAllowed

request_log = logging.getLogger("django.request")


def _server_error_body(request) -> dict:
    return {
        "detail": _(
            "Something went wrong on our side. If it happens again, give this request id "
            "to your administrator."
        ),
        "request_id": getattr(request, "request_id", None),
    }


def server_error(request, *args, **kwargs):
    """handler500: JSON under /api/ (a client reads it), the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(_server_error_body(request), status=500)
    return page_server_error(request, *args, **kwargs)


def _too_big_body() -> dict:
    return {
        "detail": _("The request is too large (at most %(mb)s MB).")
        % {"mb": round(settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024), 1)}
    }


def bad_request(request, exception, *args, **kwargs):
    """handler400 (a request Django refused before any view: too large, too many fields, a
    bad host): JSON under /api/, 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse(_too_big_body(), status=413)
        return JsonResponse({"detail": _("The request could not be read.")}, status=400)
    return page_bad_request(request, exception, *args, **kwargs)


def handle(exc, context):
    if isinstance(exc, RequestDataTooBig):
        return Response(_too_big_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, and the like
        return Response(
            {"detail": _("The request could not be read.")}, status=status.HTTP_400_BAD_REQUEST
        )
    if isinstance(exc, TransitionNotAllowed):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is not None:
        return response
    # Unexpected: logged as Django logs a 500 (with the traceback), answered in JSON.
    request = context["request"]
    set_rollback()
    request_log.error(
        "Internal Server Error: %s",
        request.path,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"status_code": 500, "request": request._request},
    )
    response = Response(_server_error_body(request), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response._has_been_logged = True  # logged above, with the traceback: once is enough
    return response
