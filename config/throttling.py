"""API throttles whose rates are read from settings.API_THROTTLE_RATES when a request comes
(DRF's own classes copy the rates once, at import, which tests and operators cannot change)."""

from django.conf import settings
from rest_framework import throttling


class _SettingsRate:
    def get_rate(self):
        return settings.API_THROTTLE_RATES[self.scope]


class AnonymousRateThrottle(_SettingsRate, throttling.AnonRateThrottle):
    scope = "anon"


class UserRateThrottle(_SettingsRate, throttling.UserRateThrottle):
    scope = "user"


class TokenEndpointThrottle(_SettingsRate, throttling.AnonRateThrottle):
    """The OAuth2 token and revoke endpoints, per client address (casework.api.auth): a
    secret is long and random, and still nobody gets to guess at it quickly."""

    scope = "token"
