from django.shortcuts import get_object_or_404, render

from . import selectors
from .models import Membership


def home(request):
    memberships = (
        Membership.objects.filter(user=request.user, active=True)
        .select_related("agency__district")
        .order_by("agency__name")
    )
    return render(request, "casework/home.html", {"memberships": memberships})


def _visible_referral(request, pk):
    return get_object_or_404(selectors.referrals_visible_to(request.user), pk=pk)


def referral_detail(request, pk):
    referral = _visible_referral(request, pk)
    role = selectors.referral_role(request.user, referral)
    return render(
        request,
        "casework/referral_detail.html",
        {"referral": referral, "full": role == "full"},
    )


def case_detail(request, pk):
    case = get_object_or_404(
        selectors.cases_visible_to(request.user).select_related("child", "lead_worker"), pk=pk
    )
    return render(request, "casework/case_detail.html", {"case": case})
