"""How callers sign in to the API: a person's token (`Authorization: Token …`, knox), an agency
system's OAuth2 client-credentials token (`Authorization: Bearer …`, django-oauth-toolkit), or
the browser's session.

An agency system acts as its ApiClient's service user: the memberships of that user decide what
it may see and do, as a person's would; the token's scopes decide the methods (`read` for GET,
HEAD and OPTIONS; `write` for the rest). Missing or bad credentials answer 401 with a challenge:
`Bearer realm="api", error="invalid_token"` to a caller that sent a Bearer token, `Token` to
everyone else. (Their OpenAPI security schemes: casework/api/schema.py.)

Either kind of token caller is authenticated by DRF inside the view, after the middleware that
starts the per-request memo of scopes (config.middleware.ScopeMemoMiddleware) has seen an
anonymous visitor; on a GET or HEAD the memo is started here for them, as the middleware does for
a signed-in session (casework.permissions.remember_scopes)."""

from django.http import JsonResponse
from knox.auth import TokenAuthentication
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes
from oauth2_provider.views import RevokeTokenView, TokenView
from rest_framework.permissions import SAFE_METHODS, BasePermission

from casework import permissions
from casework.models import ApiClient
from config.throttling import TokenEndpointThrottle


def _client_of(application) -> ApiClient | None:
    if application is None:
        return None
    try:
        client = application.casework_client
    except ApiClient.DoesNotExist:
        return None
    return client if client.active else None


def _is_bearer(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    return header[:7].lower() == "bearer "


def _remember_scopes(request, result):
    if result is not None and request.method in ("GET", "HEAD"):
        permissions.remember_scopes(result[0])
    return result


class PersonalTokenAuthentication(TokenAuthentication):
    """A person's token (knox). First of the authentication classes, so its challenge is the
    one DRF sends: `Token`, or the Bearer challenge to a caller that sent a Bearer token."""

    def authenticate(self, request):
        return _remember_scopes(request, super().authenticate(request))

    def authenticate_header(self, request):
        if _is_bearer(request):
            return AgencyClientAuthentication().authenticate_header(request)
        return "Token"


class AgencyClientAuthentication(OAuth2Authentication):
    """A client-credentials token, acting as its client's service user. A token of an
    application that is not an active ApiClient, or whose service user is inactive, is
    refused like a bad one."""

    def authenticate(self, request):
        if not _is_bearer(request):
            return None  # someone else's credentials, or none: not for oauthlib to read
        found = super().authenticate(request)
        if found is None:
            if not getattr(request, "oauth2_error", None):
                request.oauth2_error = {"error": "invalid_token"}
            return None
        _user, token = found
        client = _client_of(token.application)
        if client is None or not client.service_user.is_active:
            request.oauth2_error = {"error": "invalid_token"}
            return None
        return _remember_scopes(request, (client.service_user, token))


class ScopeAllowsMethod(BasePermission):
    """An OAuth2 token may read with `read` and change with `write`; other callers pass."""

    message = "This token's scopes do not allow this method."

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, AccessToken):
            return True
        needed = "read" if request.method in SAFE_METHODS else "write"
        return token.allow_scopes([needed])


class ClientScopes(SettingsScopes):
    """What an application may ask for: the scopes its ApiClient was given, nothing else; an
    application with no active ApiClient gets none (and so no token)."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = _client_of(application)
        return client.scope_list if client else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class ClientValidator(OAuth2Validator):
    """Only an active ApiClient's application gets a token: a retired one's secret is refused
    as a wrong one would be."""

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        return _client_of(request.client) is not None


class _ClientCredentialsFirst:
    """The token endpoints answer a request that carries no client credentials at all (no
    HTTP Basic, no client_id) with 401 invalid_client, as RFC 6749 §5.2 says for a client that
    did not authenticate, before reading anything else of it."""

    def post(self, request, *args, **kwargs):
        throttle = TokenEndpointThrottle()
        if not throttle.allow_request(request, self):
            wait = throttle.wait()
            return JsonResponse(
                {"error": "slow_down", "error_description": "Too many requests: try again later."},
                status=429,
                headers={"Retry-After": str(int(wait or 60) + 1)},
            )
        basic = request.META.get("HTTP_AUTHORIZATION", "")[:6].lower() == "basic "
        if not basic and "client_id" not in request.POST:
            return JsonResponse(
                {"error": "invalid_client"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="api"'},
            )
        return super().post(request, *args, **kwargs)


class ClientTokenView(_ClientCredentialsFirst, TokenView):
    pass


class ClientRevokeTokenView(_ClientCredentialsFirst, RevokeTokenView):
    pass
