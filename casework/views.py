from django.shortcuts import render

from .models import Membership


def home(request):
    memberships = (
        Membership.objects.filter(user=request.user, active=True)
        .select_related("agency__district")
        .order_by("agency__name")
    )
    return render(request, "casework/home.html", {"memberships": memberships})
