"""The OpenAPI description of every operation, errors included: besides what an operation
answers when it succeeds, the failures every client must handle, each with its body's shape
(casework.api.errors writes them)."""

from django.conf import settings
from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

DETAIL = {
    "type": "object",
    "description": "A refusal or failure, said in `detail` (in the caller's language).",
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
    "description": "A failure on the server; `request_id` is the key to its log line.",
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

COMPONENTS = {"Error": DETAIL, "FieldErrors": FIELD_ERRORS, "ServerError": SERVER_ERROR}


class AutoSchema(BaseAutoSchema):
    def _takes_no_query(self) -> bool:
        """Query parameters are for reading lists: a write takes none, and neither does a
        viewset's one object or extra action (a case's notes, a referral's history) — the
        filters and the parameters declared on the viewset are its list's alone."""
        if self.method.upper() != "GET":
            return True
        return getattr(self.view, "action", None) not in (None, "list")

    def get_filter_backends(self):
        return [] if self._takes_no_query() else super().get_filter_backends()

    def _process_override_parameters(self, direction="request"):
        # Parameters declared on a whole view (`@extend_schema(parameters=…)` on the class)
        # reach every operation of it; the query ones belong to its list.
        parameters = super()._process_override_parameters(direction)
        if self._takes_no_query():
            parameters = {
                key: value for key, value in parameters.items() if key[1] != OpenApiParameter.QUERY
            }
        return parameters

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

    def map_parsers(self):
        """JSON is the one documented body (the parsers read form bodies too, as the browsable
        API sends them): a form cannot carry a nested object such as `child`, and a client
        generated from the schema would pick it. An upload is multipart only (its view says)."""
        parsers = super().map_parsers()
        return ["application/json"] if "application/json" in parsers else parsers

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "429", "500"]
        method = self.method.upper()
        if "{" in self.path or (method == "GET" and self._is_list_view()):
            codes.append("404")  # no such object; for a list of numbered pages, a page past the end
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["409", "413"]
        return codes

    def _error_schema(self, schema: dict) -> dict:
        """An error body as a named component (`Error`, `FieldErrors`, `ServerError`): one
        model in a generated client for every operation's refusals, not one per operation."""
        name = next(name for name, body in COMPONENTS.items() if body is schema)
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                error = ERRORS[code]
                named = OpenApiResponse(
                    self._error_schema(error.response), description=error.description
                )
                responses[code] = self._get_response_for_code(named, code)
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
