"""Break-glass on a trail, shared by the referral and case resources."""

from rest_framework import status
from rest_framework.response import Response

from casework import services

from . import serializers as s


def unlock_trail(request, *, referral=None, case=None) -> Response:
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
