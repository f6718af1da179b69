"""The OpenAPI description of every operation, errors included: besides what an operation
answers when it succeeds, the failures every client must handle, each with its body's shape
(casework.api.errors writes them)."""

from django.conf import settings
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Each refused field (or query parameter) with its messages: a list of strings, or for "
        "a nested object (`child`) the same shape again. `non_field_errors` for the whole "
        "input; `detail` alone when the body could not be read."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "additionalProperties": True},
            {"type": "string"},
        ]
    },
}
SERVER_ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "request_id": {"type": "string", "nullable": True},
    },
    "required": ["detail"],
}

ERRORS = {
    "400": OpenApiResponse(FIELD_ERRORS, description="Bad input: the fields and why."),
    "401": OpenApiResponse(
        DETAIL,
        description="No credentials, or bad ones (`WWW-Authenticate: Token` says how).",
    ),
    "403": OpenApiResponse(DETAIL, description="Signed in, but not allowed to do this."),
    "404": OpenApiResponse(
        DETAIL,
        description=(
            "No such object, or one the caller may not see (never said which); for a list, a "
            "page past its end."
        ),
    ),
    "409": OpenApiResponse(DETAIL, description="Not allowed in the object's current state."),
    "413": OpenApiResponse(DETAIL, description="The body is larger than the server accepts."),
    "429": OpenApiResponse(DETAIL, description="Too many requests: wait and try again."),
    "500": OpenApiResponse(
        SERVER_ERROR, description="A failure on the server; quote `request_id` when reporting it."
    ),
}


class AutoSchema(BaseAutoSchema):
    def get_override_parameters(self):
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                "Accept-Language",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description=(
                    "The language of messages and labels: one of "
                    + ", ".join(code for code, _name in settings.LANGUAGES)
                    + f"; without it, the installation's default ({settings.LANGUAGE_CODE})."
                ),
            ),
        ]

    def get_filter_backends(self):
        """A viewset's filters act on its list alone: an action that answers a list (a
        referral's documents, a case's notes) takes none of them, so none is described."""
        if getattr(self.view, "action", None) not in (None, "list"):
            return []
        return super().get_filter_backends()

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429", "500"]
        method = self.method.upper()
        if "{" in self.path or (method == "GET" and self._is_list_view()):
            codes.append("404")  # no such object; for a list of numbered pages, a page past the end
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["409", "413"]
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ERRORS[code], code)
        return responses


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "casework.api.auth.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Token",  # noqa: S106 (a word, not a key)
        )


class AgencyClientScheme(DjangoOAuthToolkitScheme):
    """Client credentials; the scope an operation needs follows from its method."""

    target_class = "casework.api.auth.AgencyClientAuthentication"
    name = "agencyClient"

    def get_security_requirement(self, auto_schema):
        return {self.name: ["read" if auto_schema.method.upper() == "GET" else "write"]}
