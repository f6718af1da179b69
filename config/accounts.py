"""Account pages beside Viewflow's sign-in: the second factor (django-otp: an authenticator
app, and single-use backup codes) and the user's own API tokens (django-rest-knox: hashed,
expiring, shown once). The profile page is the project's own (templates/registration/
profile.html), closed to uploads: Viewflow's avatar form would let anyone write files into
the media folder beside the case attachments."""

import base64

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex
from knox.models import AuthToken
from knox.settings import knox_settings
from viewflow.contrib import auth

BACKUP_CODES = 10


class ProfileView(auth.ProfileView):
    """The profile page: the person's details, their second factor and their API tokens."""

    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        from casework.models import Membership, Notification
        from config.urls import site

        # The shell's side menu, as on every page of the site (Viewflow's templates read the
        # site from the resolver match, which its middleware fills for the site's own pages).
        self.request.resolver_match.site = site
        user = self.request.user
        return super().get_context_data(
            memberships=Membership.objects.filter(user=user, active=True).select_related("agency"),
            unread=Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
            tokens=AuthToken.objects.filter(user=user).order_by("-created"),
            token_days=knox_settings.TOKEN_TTL.days,
            has_second_factor=user_has_device(user),
            verified=user.is_verified(),
            **kwargs,
        )


class AccountsViewset(auth.AuthViewset):
    profile_view_class = ProfileView


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "numeric"}
        ),
    )


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else settings.LOGIN_REDIRECT_URL


def _with_next(name: str, request) -> str:
    return f"{reverse(name)}?{request.GET.urlencode()}" if request.GET else reverse(name)


def two_factor(request):
    """Confirm this session with a code from the authenticator app or a backup code."""
    if not user_has_device(request.user):
        return HttpResponseRedirect(_with_next("two_factor_enrol", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["otp_token"].replace(" ", "")
        # Six digits: the app's code; anything else: a backup code. Each device counts its
        # own failures and makes the next try wait longer (1 s, 2 s, 4 s…).
        app_code = len(code) == 6 and code.isdigit()
        with transaction.atomic():
            devices = devices_for_user(request.user, for_verify=True)
            device = next(
                (
                    d
                    for d in devices
                    if isinstance(d, TOTPDevice) == app_code and d.verify_token(code)
                ),
                None,
            )
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error(
            "otp_token",
            _(
                "This code is not valid. Type the code your authenticator app shows now, or "
                "one of your backup codes; after several wrong codes, wait a little."
            ),
        )
    return render(
        request, "registration/two_factor.html", {"form": form, "next": _next_url(request)}
    )


PENDING_KEY = "casework_otp_pending_key"


def two_factor_enrol(request):
    """Register an authenticator app: scan the code, type what the app shows, keep the backup
    codes. A person who has one already confirms it instead (an administrator resets it).
    Nothing is stored until the first code is right: the new key waits in the session."""
    if user_has_device(request.user):
        return HttpResponseRedirect(_with_next("two_factor", request))
    key = request.session.get(PENDING_KEY)
    if key is None:
        key = request.session[PENDING_KEY] = random_hex(20)
    device = TOTPDevice(user=request.user, name=_("Authenticator app"), key=key)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        code = form.cleaned_data["otp_token"].replace(" ", "")
        if code.isdigit() and totp.verify(int(code), device.tolerance):
            device.last_t = totp.t()
            codes = _confirm(device)
            del request.session[PENDING_KEY]
            otp_login(request, device)
            return render(
                request,
                "registration/two_factor_backup_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        form.add_error("otp_token", _("This code is not valid: type the code the app shows now."))
    context = {
        "form": form,
        "next": _next_url(request),
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=5),
        "secret": base64.b32encode(device.bin_key).decode(),
    }
    return render(request, "registration/two_factor_enrol.html", context)


@transaction.atomic
def _confirm(device: TOTPDevice) -> list[str]:
    device.confirmed = True
    device.save()
    backup, _created = StaticDevice.objects.get_or_create(
        user=device.user, name="backup", defaults={"confirmed": True}
    )
    backup.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=backup, token=code) for code in codes)
    return codes


def _require_second_factor(request):
    """Tokens are made and revoked only in a session confirmed with the second factor."""
    if request.user.is_verified():
        return None
    messages.info(request, _("Confirm your sign-in with your second factor to manage API tokens."))
    return redirect_with_next("two_factor", reverse("profile"))


def redirect_with_next(name: str, next_url: str):
    from urllib.parse import urlencode

    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': next_url})}")


@require_POST
def api_token_create(request):
    """A new API token, shown once on the page this answers; only its hash is kept."""
    refused = _require_second_factor(request)
    if refused:
        return refused
    if AuthToken.objects.filter(user=request.user).count() >= knox_settings.TOKEN_LIMIT_PER_USER:
        messages.error(
            request,
            _("You have %(n)s tokens, the most allowed: revoke one first.")
            % {"n": knox_settings.TOKEN_LIMIT_PER_USER},
        )
        return redirect("profile")
    instance, token = AuthToken.objects.create(user=request.user)
    return render(
        request, "registration/api_token_created.html", {"token": token, "instance": instance}
    )


@require_POST
def api_token_revoke(request, key):
    refused = _require_second_factor(request)
    if refused:
        return refused
    token = get_object_or_404(AuthToken, user=request.user, token_key=key)
    token.delete()
    messages.success(request, _("Token revoked: it no longer opens the API."))
    return redirect("profile")


urlpatterns = [
    path("2fa/", two_factor, name="two_factor"),
    path("2fa/enrol/", two_factor_enrol, name="two_factor_enrol"),
    path("tokens/", api_token_create, name="api_token_create"),
    path("tokens/<str:key>/revoke/", api_token_revoke, name="api_token_revoke"),
]
