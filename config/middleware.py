import re
import time

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _


class LoginRequiredExceptApiMiddleware(LoginRequiredMiddleware):
    """Pages redirect anonymous visitors to the login page; the API answers 401/403 itself
    (it also accepts token authentication, which this middleware cannot see)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


IDLE_KEY = "casework_last_seen"


class IdleTimeoutMiddleware:
    """Sign out a session that made no request for SESSION_IDLE_TIMEOUT seconds. The request
    that finds it idle is answered as an anonymous one (the login page, or 401/403 from the
    API); every other request moves the clock on (to within 30 seconds)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(IDLE_KEY)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                auth.logout(request)
                messages.info(request, _("You were signed out after a period of inactivity."))
            elif last_seen is None or now - last_seen >= 30:
                # Written at most every 30 s: not one session write per request.
                request.session[IDLE_KEY] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Nothing a signed-in person is shown, and no API answer, may be kept by the browser or a
    proxy: a school's computers are shared, and the back button must not bring a child's file
    back after sign-out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # token callers: set by DRF on this request too
        if request.path_info.startswith("/api/") or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
        return response


SECOND_FACTOR_FREE = ("/accounts/2fa/", "/accounts/login/", "/accounts/logout/", "/i18n/")


class SecondFactorMiddleware:
    """A signed-in person who must use a second factor (casework.permissions) and has not yet
    confirmed this session with one reaches only the second-factor pages: pages redirect
    there, the API answers 403. API tokens are created after the second factor, so a token
    caller (not signed in here) passes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._blocked(request):
            if request.path_info.startswith("/api/"):
                message = _("Confirm your sign-in with your second factor first.")
                return JsonResponse({"detail": message}, status=403)
            return redirect_to_login(
                request.get_full_path(), login_url=reverse("two_factor"), redirect_field_name="next"
            )
        return self.get_response(request)

    @staticmethod
    def _blocked(request) -> bool:
        from casework.permissions import needs_second_factor

        user = request.user
        if not settings.TWO_FACTOR_ENFORCED or not user.is_authenticated or user.is_verified():
            return False
        path = request.path_info
        if path.startswith(SECOND_FACTOR_FREE) or path.startswith(settings.STATIC_URL):
            return False
        return needs_second_factor(user)


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadBytesMiddleware:
    """A query parameter with a NUL or another control character is bad input: 400 naming
    the parameter, in one place for every page and API answer (PostgreSQL cannot even compare
    a NUL; form and API fields refuse them through their own validators)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            if any(CONTROL_CHARACTERS.search(text) for text in [name, *values]):
                message = _("This parameter contains control characters.")
                if request.path_info.startswith("/api/"):
                    return JsonResponse({name: [message]}, status=400)
                return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain")
        return self.get_response(request)


class ScopeMemoMiddleware:
    """A request that changes nothing (GET, HEAD) reads the user's scopes once: the menu, the
    page and its selectors share one read of the districts, schools and roles
    (casework.permissions.remember_scopes). A request that may change them reads afresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from casework import permissions

        user = getattr(request, "user", None)
        if request.method not in ("GET", "HEAD") or user is None:
            return self.get_response(request)
        permissions.remember_scopes(user)
        try:
            return self.get_response(request)
        finally:
            permissions.forget_scopes(user)
