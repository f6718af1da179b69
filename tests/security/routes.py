"""Every URL pattern the project serves, and how to turn each into concrete URLs.

The patterns are found by walking django.urls.get_resolver().url_patterns; each one is filled
with symbols (``referral:draft``, ``case:open``, ``task:referral.triage.new``, ...) that
tests/security/world.py turns into the ids of its objects. A pattern with a parameter nobody
knows how to fill yields an UNFILLABLE variant, so that a new kind of URL fails the matrix
until it is given objects to be tested with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from .world import CASE_KEYS, FLOW_PROCESSES, FLOW_TASKS, REFERRAL_KEYS

CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
UNFILLABLE = "UNFILLABLE"


@dataclass(frozen=True)
class Route:
    route: str  # the full route string, e.g. "casework/referrals/<int:pk>/"
    name: str  # the qualified URL name, e.g. "casework:referral_detail" ("" when unnamed)
    parts: tuple = field(compare=False, repr=False)
    callback: object = field(compare=False, repr=False)

    @property
    def params(self) -> list[str]:
        names = []
        for part in self.parts:
            if isinstance(part, RoutePattern):
                names += [m.group("name") for m in CONVERTER.finditer(str(part))]
            else:
                names += _regex_groups(str(part))
        return names


def all_routes() -> list[Route]:
    routes = []

    def walk(patterns, parts, namespaces):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = (pattern.namespace,) if pattern.namespace else ()
                walk(pattern.url_patterns, (*parts, pattern.pattern), namespaces + namespace)
            elif isinstance(pattern, URLPattern):
                full = (*parts, pattern.pattern)
                name = ":".join((*namespaces, pattern.name)) if pattern.name else ""
                routes.append(
                    Route(
                        route="".join(str(p) for p in full),
                        name=name,
                        parts=full,
                        callback=pattern.callback,
                    )
                )

    walk(get_resolver().url_patterns, (), ())
    return routes


# --- filling -----------------------------------------------------------------------------


def _matching_paren(regex: str, start: int) -> int:
    depth, i, in_class = 0, start, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced group in {regex!r}")


def _regex_groups(regex: str) -> list[str]:
    """Names of the capturing groups of a regex route, positional ones as _1, _2, ..."""
    names, i, positional = [], 0, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            end = _matching_paren(regex, i)
            inner = regex[i + 1 : end]
            named = re.match(r"\?P<(\w+)>", inner)
            if named:
                names.append(named.group(1))
            elif not inner.startswith("?"):
                positional += 1
                names.append(f"_{positional}")
            i = end + 1
            continue
        i += 1
    return names


def _fill_regex(regex: str, values: dict) -> str:
    out, i, positional = [], 0, 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            out.append(regex[i + 1])
            i += 2
        elif c == "(":
            end = _matching_paren(regex, i)
            inner = regex[i + 1 : end]
            named = re.match(r"\?P<(\w+)>", inner)
            if named:
                out.append(values[named.group(1)])
            else:
                positional += 1
                out.append(values[f"_{positional}"])
            i = end + 1
        elif c in "^$":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def fill(route: Route, values: dict[str, str]) -> str:
    """The concrete path of `route` with `values` (already resolved to strings)."""
    pieces = []
    for part in route.parts:
        if isinstance(part, RoutePattern):
            pieces.append(CONVERTER.sub(lambda m: values[m.group("name")], str(part)))
        else:
            assert isinstance(part, RegexPattern)
            pieces.append(_fill_regex(str(part), values))
    return "/" + "".join(pieces)


# --- which objects each pattern is tried with --------------------------------------------------

# Parameters filled with fixed words rather than objects: {parameter: [word, ...]}.
LITERALS: dict[str, list[str]] = {"fmt": ["csv", "xlsx", "pdf", "json"]}


def variants(route: Route) -> list[tuple[str, dict[str, str]]]:
    """(label, {parameter: symbol or literal}) for every concrete URL `route` is tried with.
    A symbol contains a colon and is resolved by the world; a literal is used as it is."""
    params = route.params
    if not params:
        return [("-", {})]
    try:
        return _variants(route.route, params)
    except LookupError as error:
        return [(UNFILLABLE, {"error": str(error)})]


def _product(label_values: list[list[tuple[str, dict]]]) -> list[tuple[str, dict]]:
    result = [("", {})]
    for options in label_values:
        result = [
            ((f"{label}/{more}" if label else more), {**values, **extra})
            for label, values in result
            for more, extra in options
        ]
    return result


def _variants(r: str, params: list[str]) -> list[tuple[str, dict[str, str]]]:
    if r.startswith("admin/"):
        return [_admin_variant(r, params)]
    flow = r.split("/", 1)[0]
    if flow in FLOW_TASKS and "process_pk" in params:
        if "task_pk" in params:
            node = r.split("/")[2]
            if node not in FLOW_TASKS[flow]:
                raise LookupError(f"no task of node {flow}.{node} in the world")
            return [
                (
                    label,
                    {
                        "process_pk": f"taskprocess:{flow}.{node}.{label}",
                        "task_pk": f"task:{flow}.{node}.{label}",
                    },
                )
                for label, _key, _status in FLOW_TASKS[flow][node]
            ]
        return [(key, {"process_pk": f"process:{flow}.{key}"}) for key in FLOW_PROCESSES[flow]]
    options = []
    for param in params:
        options.append(_param_options(r, param, params))
    return _product(options)


def _param_options(r: str, param: str, params: list[str]) -> list[tuple[str, dict]]:
    def symbols(kind, keys):
        return [(key, {param: f"{kind}:{key}"}) for key in keys]

    if param in LITERALS:
        return [(value, {param: value}) for value in LITERALS[param]]
    if param == "pk":
        if r.startswith(("casework/referrals/", "api/v1/^referrals/")):
            return symbols("referral", REFERRAL_KEYS)
        if r.startswith(("casework/cases/", "api/v1/^cases/")):
            # Sub-objects (an action, a team member) belong to the open case.
            sub_objects = {"action_pk", "member_pk", "consent_pk", "objection_pk"}
            keys = ["open"] if sub_objects & set(params) else CASE_KEYS
            return symbols("case", keys)
        if r.startswith(("casework/attachments/", "api/v1/^attachments/")):
            return symbols("attachment", ["case", "draft"])
        if r.startswith(("casework/notifications/", "api/v1/^notifications/")):
            return symbols("notification", ["teacher"])
        if r.startswith(("casework/holds/", "api/v1/^holds/")):
            return symbols("hold", ["north"])
        if r.startswith(("casework/services/", "api/v1/services/")):
            return symbols("service", ["north"])
        if r.startswith(("casework/referents/", "api/v1/referents/")):
            return symbols("referent", ["north"])
        if r.startswith(("casework/consultations/", "api/v1/^consultations/")):
            return symbols("consultation", ["asked"])
        if r.startswith(("casework/alerts/", "api/v1/^alerts/")):
            return symbols("alert", ["north"])
        if r.startswith(("casework/meetings/", "api/v1/^meetings/")):
            return symbols("meeting", ["north"])
        if r.startswith(("casework/handovers/", "api/v1/^handovers/")):
            return symbols("handover", ["sent"])
        if r.startswith("casework/protocol/"):
            return symbols("protocolversion", ["current"])
        if r.startswith(("casework/transfers/", "api/v1/^transfers/")):
            return symbols("transfer", ["pending"])
    if r.startswith("casework/dpo/subject-access/") and param == "pk":
        return [("one", {param: "sar:one"})]
    if r.startswith("casework/dpo/rectifications/") and param == "pk":
        return [("one", {param: "rectification:one"})]
    if param == "consent_pk":
        return [("consent", {param: "consent:open"})]
    if param == "objection_pk":
        return [("objection", {param: "objection:open"})]
    if r.startswith(("casework/mailings/", "casework/subscribers/")) and param == "pk":
        return [("missing", {param: "999999"})]
    if r.startswith("mailing-list/") and param == "token":
        return [("unknown-token", {param: "no-such-token"})]
    if param == "action_pk" and r.startswith("casework/meetings/"):
        return [("agreed", {param: "meetingaction:north"})]
    if param == "action_pk":
        return [("action", {param: "action:open"})]
    if param == "member_pk":
        return [("member", {param: "member:open"})]
    if r.startswith("accounts/tokens/") and param == "key":
        return [("unknown-token", {param: "no-such-token"})]
    if r.startswith("accounts/reset/") and param in ("uidb64", "token"):
        return [("invalid-link", {param: {"uidb64": "MQ", "token": "bad-token"}[param]})]
    raise LookupError(f"no objects to fill <{param}> of {r!r}")


def _admin_variant(r: str, params: list[str]) -> tuple[str, dict[str, str]]:
    values = {}
    model = re.match(r"admin/(\w+)/(\w+)/", r)
    label = f"{model.group(1)}.{model.group(2)}" if model else ""
    for param in params:
        if param == "object_id" and r.startswith("admin/r/"):
            values[param] = "admin:referral"
        elif param == "content_type_id":
            values[param] = "admin:contenttype.referral"
        elif param in ("object_id", "_1") and label:
            values[param] = f"admin:{label}"
        elif param == "_2" and label:
            values[param] = f"adminhistory:{label}"
        elif param == "pk" and label == "otp_totp.totpdevice":
            values[param] = f"admin:{label}"
        elif param == "id" and label == "auth.user":
            values[param] = "admin:auth.user"
        elif param == "app_label":
            values[param] = "casework"
        elif param == "url":
            values[param] = "no-such-page/"
        else:
            raise LookupError(f"no objects to fill <{param}> of {r!r}")
    return (label or "-", values)


# --- what a write sends -------------------------------------------------------------------------
# A minimal valid body, so that the answer is decided by who asks, not by a missing field.


def _pdf():
    from .world import pdf

    return pdf("matrix.pdf")


def body_for(route: Route, values: dict[str, str], world) -> tuple[dict, str | None]:
    """(data, format) of the write request for `route`; format "json" for the API,
    None for a form post (multipart)."""
    u = world.users
    r, name = route.route, route.name
    if name in ("case-attachments", "referral-attachments"):
        return {"title": "Matrix", "file": _pdf()}, "multipart"
    if r.startswith("api/"):
        return _api_body(name, u), "json"
    if r.startswith(("referral/", "case/")):
        if name.endswith(":process_cancel"):
            return {"_cancel_process": "1"}, None
        if name.endswith(":tasks_assign"):
            return {"pk": world.symbols["task:referral.triage.new"]}, None
        if name.endswith(":tasks_unassign"):
            return {"pk": world.symbols["task:referral.triage.assigned"]}, None
        return {}, None
    forms = {
        "casework:referral_new": {
            "child-first_name": "Ada",
            "child-last_name": "Neri",
            "child-date_of_birth": "2015-01-01",
            "concern_categories": "neglect",
            "observations": "Bruises on the arms.",
            "urgency": "routine",
            "family_informed": "yes",
        },
        "casework:referral_edit": {
            "concern_categories": "neglect",
            "observations": "Rewritten",
            "urgency": "routine",
            "family_informed": "yes",
        },
        "casework:referral_decide": {"decision": "no_further_action", "reason": "School copes"},
        "casework:referral_answer": {"answer": "Since September"},
        "casework:action_change": {"status": "in_progress", "progress_note": "Met"},
        "casework:case_plan": {"objectives": "Rewritten objectives"},
        "casework:case_action_add": {
            "objective": "Home visit",
            "owning_agency": u["social_north"].pk,
        },
        "casework:case_member_add": {
            "user": u["supervisor"].pk,
            "agency": u["social_north"].pk,
            "role": "social_worker",
            "reason": "Second opinion",
        },
        "casework:case_review": {"risk_level": "low", "decision": "continue", "attendees": "Team"},
        "casework:case_close": {"approve": "1", "reason": "All fine"},
        "casework:case_extraordinary_review": {
            "extra-reason": "A new incident",
            "extra-risk_level": "low",
            "extra-decision": "continue",
        },
        "casework:case_review_forward": {"forward-review_on": _today()},
        "casework:consultation_new": {
            "age_band": "6-10",
            "concern_categories": "neglect",
            "question": "Often hungry.",
        },
        "casework:consultation_message": {"body": "Call us."},
        "casework:consultation_refer": {
            "child-first_name": "Ada",
            "child-last_name": "Neri",
            "child-date_of_birth": "2015-01-01",
        },
        "casework:alert_handle": {"action": "acknowledge", "note": "Home visit"},
        "casework:meeting_new": {
            "district": u["north"].pk,
            "held_on": _today(),
            "title": "Network table",
        },
        "casework:meeting_edit": {
            "district": u["north"].pk,
            "held_on": _today(),
            "title": "Network table",
        },
        "casework:meeting_action_add": {
            "description": "Map the nurseries",
            "owner_agency": u["school"].pk,
        },
        "casework:meeting_action_update": {"status": "done"},
        "casework:case_change_lead": {
            "lead-lead": u["reactivated"].pk,
            "lead-grounds": "workload",
            "lead-reason": "Matrix",
        },
        "casework:case_transfer": {
            "transfer-to_district": u["south"].pk,
            "transfer-grounds": "family_moved",
            "transfer-reason": "Matrix",
        },
        "casework:transfer_decide": {"accept": "0", "reason": "Matrix"},
        "casework:case_handover": {
            "handover-to_school": u["school"].pk,
            "handover-transition": "change_of_school",
            "handover-note": "Matrix",
            "handover-basis": "legal_basis",
            "handover-legal_basis": "Child protection law, art. 1: the school must know",
        },
        "set_language": {"language": "en", "next": "/"},
        "password_reset": {"email": "nobody@example.org"},
    }
    if name in ("casework:case_attachment_upload", "casework:referral_attachment_upload"):
        return {"title": "Matrix", "file": _pdf()}, None
    return forms.get(name, {}), None


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()


def _api_body(name: str, u: dict) -> dict:
    return {
        "referral-list": {
            "child": {"first_name": "Ada", "last_name": "Neri", "date_of_birth": "2015-01-01"},
            "concern_categories": ["neglect"],
            "observations": "Bruises on the arms.",
            "urgency": "routine",
            "family_informed": True,
        },
        "referral-detail": {"observations": "Rewritten"},
        "referral-decision": {"decision": "no_further_action", "reason": "School copes"},
        "referral-information": {"answer": "Since September"},
        "case-plan": {"objectives": "Rewritten objectives"},
        "case-actions": {"objective": "Home visit", "owning_agency": u["social_north"].pk},
        "case-team": {
            "user": u["supervisor"].pk,
            "agency": u["social_north"].pk,
            "role": "social_worker",
            "reason": "Second opinion",
        },
        "case-reviews": {"risk_level": "low", "decision": "continue", "attendees": "Team"},
        "case-close": {"reason": "All fine"},
        "case-reviews-forward": {"review_on": _today()},
        "case-action-update": {"status": "in_progress", "progress_note": "Met"},
        "case-notes": {"body": "Met the family."},
        "consultation-list": {
            "age_band": "6-10",
            "concern_categories": ["neglect"],
            "question": "Often hungry.",
        },
        "consultation-messages": {"body": "Call us."},
        "consultation-refer": {
            "child": {"first_name": "Ada", "last_name": "Neri", "date_of_birth": "2015-01-01"}
        },
        "alert-acknowledge": {"note": "Home visit"},
        "alert-dismiss": {"note": "Two children"},
        "meeting-list": {"district": "north", "held_on": _today(), "title": "Network table"},
        "meeting-actions": {"description": "Map the nurseries", "owner_agency": u["school"].pk},
        "meeting-detail": {"title": "Network table, corrected"},
        "meeting-action-update": {"status": "done"},
        "case-lead": {"lead": u["reactivated"].pk, "grounds": "workload", "reason": "Matrix"},
        "case-transfers": {"to_district": "south", "grounds": "family_moved", "reason": "Matrix"},
        "transfer-decide": {"accept": False, "reason": "Matrix"},
        "case-handovers": {
            "to_school": u["school"].pk,
            "transition": "change_of_school",
            "note": "Matrix",
            "basis": "legal_basis",
            "legal_basis": "Child protection law, art. 1: the school must know",
        },
    }.get(name, {})
