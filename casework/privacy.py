"""The data protection officer's reads: a subject access export, the register of processing
activities, break-glass reads, access patterns worth a look, the requests answered.

Reads only (the requests themselves are recorded by casework.services.consent). The pages
in casework.web.dpo ask permissions.is_data_protection_officer before calling anything here.
"""

from __future__ import annotations

import datetime
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import retention, selectors, trails
from .audit import access_action_label
from .models import (
    AccessLog,
    Agency,
    Attachment,
    Case,
    CaseTeamMember,
    Child,
    Consent,
    Contact,
    FamilyInformation,
    Guardian,
    InformationRequest,
    Note,
    Objection,
    RectificationRequest,
    Referral,
    Sharing,
    SubjectAccessRequest,
    Subscriber,
    TrailUnlock,
)

# --- the subject access export ------------------------------------------------------------------


def _value(obj, field):
    """A field's value as a person reads it (the label of a choice, the name of a linked
    record), JSON-safe."""
    if field.is_relation:
        related = getattr(obj, field.name)
        return (
            None
            if related is None
            else trails.person_name(related)
            if _is_user(related)
            else str(related)
        )
    value = getattr(obj, field.attname)
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, list):
        labels = trails.list_labels(field.name)
        return [str(labels.get(item, item)) for item in value]
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _is_user(obj) -> bool:
    from django.contrib.auth import get_user_model

    return isinstance(obj, get_user_model())


# Fields that are machinery, not data about the person.
_SKIP = {"token", "file", "idempotency_key", "urgency_rank"}


def record(obj, *, skip=()) -> dict:
    """{"type", "id", "fields": [{"name", "label", "value"}]} of one row: every concrete
    field, in the model's words."""
    fields = []
    for field in obj._meta.concrete_fields:
        if field.name in _SKIP or field.name in skip:
            continue
        fields.append(
            {
                "name": field.name,
                "label": str(capfirst(field.verbose_name)),
                "value": _value(obj, field),
            }
        )
    return {
        "type": str(capfirst(obj._meta.verbose_name)),
        "model": obj._meta.model_name,
        "id": obj.pk,
        "fields": fields,
    }


def subject_children(child: Child) -> list[Child]:
    """The child and every record of the same child: the known child a referrer's record was
    linked to (`same_as`) and the other records linked to it."""
    root = child.subject
    return [root, *Child.objects.filter(same_as=root).exclude(pk=root.pk).order_by("pk")]


def _history(querysets) -> list[dict]:
    rows = trails.describe(selectors.history_rows(*querysets, values=True))
    return [
        {
            "at": timezone.localtime(row["at"]).isoformat(timespec="minutes"),
            "record": row["record"],
            "by": row["actor_name"],
            "what": row["label"],
            "changes": [
                {"field": c["label"], "old": c["old_text"], "new": c["new_text"]}
                for c in row["changes"]
            ],
        }
        for row in rows
    ]


def _access_log(kinds: dict[str, list[int]]) -> list[dict]:
    """Who was shown these records: each read, with only this person's records named (a list
    also showed other people's: never named here)."""
    reads = AccessLog.objects.none()
    for kind, ids in kinds.items():
        if ids:
            reads = reads | AccessLog.objects.showing(kind, ids)
    ours = {kind: set(ids) for kind, ids in kinds.items()}
    rows = []
    for row in reads.select_related("user").order_by("at", "pk"):
        shown = (
            [row.object_id]
            if row.object_id is not None
            else [pk for pk in row.object_ids if pk in ours.get(row.object_type, ())]
        )
        rows.append(
            {
                "at": timezone.localtime(row.at).isoformat(timespec="minutes"),
                "who": trails.person_name(row.user),
                "door": row.get_door_display(),
                "what": access_action_label(row.action),
                "record_type": row.get_object_type_display(),
                "records": shown,
            }
        )
    return rows


def _case_section(case: Case) -> dict:
    plan = getattr(case, "plan", None)
    return {
        **record(case),
        "team": [record(m) for m in case.team.select_related("user", "agency", "added_by")],
        "plan": record(plan) if plan else None,
        "actions": [
            record(a)
            for a in (plan.actions.select_related("owner", "owning_agency") if plan else [])
        ],
        "reviews": [record(r) for r in case.reviews.select_related("recorded_by")],
        "notes": [record(n) for n in Note.objects.filter(case=case).select_related("author")],
        "documents": [record(d) for d in Attachment.objects.filter(case=case)],
        "family_information": [
            record(f)
            for f in FamilyInformation.objects.filter(case=case).select_related("informed_by")
        ],
        "consents": [record(c) for c in Consent.objects.filter(case=case).select_related("agency")],
        "objections": [record(o) for o in Objection.objects.filter(case=case)],
        "sharings": [record(s) for s in Sharing.objects.filter(case=case).select_related("agency")],
    }


def _referral_section(referral: Referral) -> dict:
    return {
        **record(referral),
        "information_requests": [
            record(q) for q in InformationRequest.objects.filter(referral=referral)
        ],
        "notes": [
            record(n) for n in Note.objects.filter(referral=referral).select_related("author")
        ],
        "documents": [record(d) for d in Attachment.objects.filter(referral=referral)],
    }


def subject_access(request: SubjectAccessRequest) -> dict:
    """Everything the product holds about the person of the request: for a child, every
    record of the child (linked records included), their guardians, referrals, cases with
    everything on them, the history of each, and who saw them; for a guardian, their own
    record and its history, the child they are recorded for (name and date of birth only),
    what the family was told and agreed to on the child's cases, and who saw the file.
    Nothing about any other child. Documents are listed (title, type, size): hand their files
    over from the case page."""
    children = subject_children(request.child)
    child_ids = [c.pk for c in children]
    referrals = list(
        Referral.objects.filter(child_id__in=child_ids).select_related(
            "child", "school", "district", "referrer", "case"
        )
    )
    cases = list(
        Case.objects.filter(child_id__in=child_ids).select_related(
            "child", "district", "lead_worker", "plan"
        )
    )
    referral_ids = [r.pk for r in referrals]
    case_ids = [c.pk for c in cases]
    guardian = request.guardian
    requests_about = Q(child_id__in=child_ids)
    if guardian is not None:
        requests_about = Q(guardian=guardian)
    export = {
        "generated_at": timezone.localtime().isoformat(timespec="minutes"),
        "request": record(request),
        "subject": "guardian" if guardian else "child",
    }
    if guardian is None:
        guardians = list(Guardian.objects.filter(child_id__in=child_ids))
        history = [Child.history.filter(id__in=child_ids)]
        history.append(Guardian.history.filter(child_id__in=child_ids))
        history.extend(
            [
                Referral.history.filter(id__in=referral_ids),
                InformationRequest.history.filter(referral_id__in=referral_ids),
            ]
        )
        export.update(
            {
                "children": [record(c) for c in children],
                "guardians": [record(g) for g in guardians],
                "referrals": [_referral_section(r) for r in referrals],
                "cases": [_case_section(c) for c in cases],
                "history": _history(history)
                + [row for case in cases for row in _case_history(case)],
            }
        )
    else:
        root = children[0]
        export.update(
            {
                "guardian": record(guardian),
                "child": {
                    "name": str(root),
                    "date_of_birth": root.date_of_birth.isoformat(),
                },
                "family_records": [
                    {
                        "case": case.reference,
                        "family_information": [
                            record(f) for f in FamilyInformation.objects.filter(case=case)
                        ],
                        "consents": [record(c) for c in Consent.objects.filter(case=case)],
                        "objections": [record(o) for o in Objection.objects.filter(case=case)],
                    }
                    for case in cases
                ],
                "history": _history([Guardian.history.filter(id=guardian.pk)]),
            }
        )
    export["requests"] = {
        "subject_access": [record(r) for r in SubjectAccessRequest.objects.filter(requests_about)],
        "rectification": [record(r) for r in RectificationRequest.objects.filter(requests_about)],
    }
    export["access_log"] = _access_log(
        {
            AccessLog.Kind.CHILD: child_ids,
            AccessLog.Kind.REFERRAL: referral_ids,
            AccessLog.Kind.CASE: case_ids,
        }
    )
    export["_read"] = {"children": child_ids, "referrals": referral_ids, "cases": case_ids}
    return export


def _case_history(case: Case) -> list[dict]:
    rows = trails.describe(selectors.case_history(case, values=True))
    return [
        {
            "at": timezone.localtime(row["at"]).isoformat(timespec="minutes"),
            "record": row["record"],
            "by": row["actor_name"],
            "what": row["label"],
            "changes": [
                {"field": c["label"], "old": c["old_text"], "new": c["new_text"]}
                for c in row["changes"]
            ],
        }
        for row in rows
    ]


def subject_access_json(export: dict) -> str:
    public = {k: v for k, v in export.items() if not k.startswith("_")}
    return json.dumps(public, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


# --- the register of processing activities (GDPR art. 30) -------------------------------------


def _categories(*models) -> list[str]:
    """The categories of data of an activity: the fields of its records, in their words."""
    seen: dict[str, None] = {}
    for model in models:
        for field in model._meta.concrete_fields:
            if field.name == "id" or field.name in _SKIP:
                continue
            seen.setdefault(str(capfirst(field.verbose_name)), None)
    return list(seen)


def retention_settings() -> list[dict]:
    """The retention durations of the purge's rules (casework.retention.RULES): each
    municipality's for its records (named when they differ), the installation's for its own."""
    return [
        {
            "name": rule.setting,
            "label": str(capfirst(rule.verbose_name)),
            "value": "; ".join(
                f"{row['who']} {row['days']}" if row["who"] else str(row["days"])
                for row in rule.kept()
            ),
        }
        for rule in retention.RULES
    ]


# Which retention settings concern which activity: words in the setting's name.
_RETENTION_WORDS = {
    "referrals": ("draft", "referral", "redirect", "no_action", "no_further"),
    "cases": ("case",),
    "helpline": ("contact", "helpline"),
    "mailing": ("subscriber", "mailing"),
    "audit": ("access", "history", "log"),
}


def processing_register() -> list[dict]:
    """The register of processing activities, generated from the models (categories of
    data), the agencies configured (recipients, by kind) and the protocol settings
    (retention), so that it follows the installation."""
    kinds = dict(Agency.Kind.choices)
    on_teams = sorted(
        {
            str(kinds.get(k, k))
            for k in CaseTeamMember.objects.order_by()
            .values_list("agency__kind", flat=True)
            .distinct()
        }
    )
    schools = str(kinds[Agency.Kind.SCHOOL])
    social = str(kinds[Agency.Kind.SOCIAL_SERVICES])
    retention = retention_settings()
    activities = [
        {
            "key": "referrals",
            "name": _("Referrals about children at risk"),
            "purpose": _(
                "Receive and triage the concerns of schools and services about a child "
                "(the signalling protocol)."
            ),
            "basis": _(
                "Public task of child protection (GDPR art. 6.1.e, 9.2.g); legal obligations "
                "to report."
            ),
            "subjects": _("Children, their parents or guardians; the referring professionals."),
            "categories": _categories(Child, Guardian, Referral, InformationRequest),
            "recipients": [social, schools + " " + _("(the referring school: the outcome only)")],
        },
        {
            "key": "cases",
            "name": _("Case management by the multi-agency team"),
            "purpose": _(
                "Plan, carry out and review the support of a child and family; record what "
                "the family was told and agreed to."
            ),
            "basis": _(
                "Public task (GDPR art. 6.1.e, 9.2.g/h); the family's consent for sharing "
                "with an agency outside the team where no other basis applies."
            ),
            "subjects": _("Children, their families; the professionals of the team."),
            "categories": _categories(
                Case, CaseTeamMember, Note, Attachment, FamilyInformation, Consent, Objection
            ),
            "recipients": on_teams or [social],
        },
        {
            "key": "helpline",
            "name": _("Helpline contacts"),
            "purpose": _("Inform and orient the people who call; count the contacts."),
            "basis": _("Public task (GDPR art. 6.1.e)."),
            "subjects": _("Callers."),
            "categories": _categories(Contact),
            "recipients": [_("The helpline operators; the district supervisors (counts).")],
        },
        {
            "key": "mailing",
            "name": _("Mailing list of families and institutions"),
            "purpose": _("Send news of initiatives to those who subscribed."),
            "basis": _("Consent (GDPR art. 6.1.a), confirmed by e-mail."),
            "subjects": _("Subscribers."),
            "categories": _categories(Subscriber),
            "recipients": [_("The helpline operators.")],
        },
        {
            "key": "audit",
            "name": _("Audit trail and access log"),
            "purpose": _(
                "Account for every change and every read of a file (accountability, security)."
            ),
            "basis": _("Legal obligation of security and accountability (GDPR art. 5.2, 32)."),
            "subjects": _("The people in the files; the professionals who read them."),
            "categories": _categories(AccessLog, TrailUnlock),
            "recipients": [_("The data protection officer; the lead worker and the supervisor.")],
        },
        {
            "key": "requests",
            "name": _("Requests of data subjects"),
            "purpose": _("Answer requests of access and rectification."),
            "basis": _("Legal obligation (GDPR art. 12-16)."),
            "subjects": _("Children and their parents or guardians."),
            "categories": _categories(SubjectAccessRequest, RectificationRequest),
            "recipients": [_("The data protection officer.")],
        },
    ]
    for activity in activities:
        words = _RETENTION_WORDS.get(activity["key"], ())
        activity["retention"] = [
            setting for setting in retention if any(w in setting["name"] for w in words)
        ]
    return activities


# --- break-glass, access patterns, requests answered -------------------------------------------


def break_glass_reads(*, limit: int = 200) -> list[TrailUnlock]:
    return list(TrailUnlock.objects.select_related("user").order_by("-opened_at", "-pk")[:limit])


def reads_outside_team(*, days: int = 30, at_least: int = 10, now=None) -> list[dict]:
    """People who opened at least `at_least` different cases they were never on the team of,
    in the last `days` days: one query (the reads grouped by person, each read checked against
    the team's rows with EXISTS). A supervisor reading their district is expected; the list
    is where to look, not a verdict."""
    since = (now or timezone.now()) - datetime.timedelta(days=days)
    on_team = CaseTeamMember.objects.filter(
        user_id=OuterRef("user_id"), case_id=OuterRef("object_id")
    )
    rows = (
        AccessLog.objects.filter(
            at__gte=since, object_type=AccessLog.Kind.CASE, object_id__isnull=False
        )
        .annotate(on_team=Exists(on_team))
        .filter(on_team=False)
        .order_by()
        .values("user_id", "user__username", "user__first_name", "user__last_name")
        .annotate(cases=Count("object_id", distinct=True), reads=Count("pk"), last=Max("at"))
        .filter(cases__gte=at_least)
        .order_by("-cases", "user__username")
    )
    return [
        {
            "user_id": row["user_id"],
            "name": f"{row['user__first_name']} {row['user__last_name']}".strip()
            or row["user__username"],
            "username": row["user__username"],
            "cases": row["cases"],
            "reads": row["reads"],
            "last": row["last"],
        }
        for row in rows
    ]


def subject_access_requests(*, limit: int = 200) -> list[SubjectAccessRequest]:
    return list(
        SubjectAccessRequest.objects.select_related("child", "guardian", "recorded_by")[:limit]
    )


def rectification_requests(*, limit: int = 200) -> list[RectificationRequest]:
    return list(
        RectificationRequest.objects.select_related(
            "child", "guardian", "recorded_by", "decided_by"
        )[:limit]
    )


def child_for_request(pk) -> Child | None:
    """The child a DPO's request page is about (`?child=`), with the guardians the form offers."""
    if pk and str(pk).isdigit():
        return Child.objects.filter(pk=pk).prefetch_related("guardians").first()
    return None


def subject_access_exports(path: str, *, limit: int = 50) -> list[AccessLog]:
    """The exports made of one request (the access log's rows of its export URLs)."""
    return list(
        AccessLog.objects.filter(
            action="subject_access.export",
            object_type=AccessLog.Kind.CHILD,
            path__startswith=path,
        ).select_related("user")[:limit]
    )


def children_matching(text: str, *, limit: int = 20) -> list[Child]:
    """The DPO looks a person up: by tax code (exactly) or by every word of the name."""
    text = (text or "").strip()
    if not text:
        return []
    by_name = Q()
    for word in text.split():
        by_name &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    return list(
        Child.objects.filter(Q(tax_code__iexact=text) | by_name)
        .select_related("district", "school", "same_as")
        .prefetch_related("guardians")
        .order_by("last_name", "first_name", "pk")[:limit]
    )


REGISTER_TITLE = gettext_lazy("Register of processing activities")
