"""Break-glass on a trail, shared by the referral and case resources."""

from django.core.exceptions import PermissionDenied
from rest_framework import status
from rest_framework.response import Response

from casework import permissions, services

from . import serializers as s


def unlock_trail(request, *, referral=None, case=None) -> Response:
    if not permissions.may_unlock_trail(request.user):
        raise PermissionDenied
    data = s.TrailUnlockInput(data=request.data)
    data.is_valid(raise_exception=True)
    unlock = services.trail_unlock(
        actor=request.user,
        referral=referral,
        case=case,
        address=request.META.get("REMOTE_ADDR") or None,
        path=request.path,
        **data.validated_data,
    )
    return Response(s.TrailUnlockOut(unlock).data, status=status.HTTP_201_CREATED)
