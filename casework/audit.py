"""The audit reasons and the read log.

Every history row carries a reason code (`casework.referral.submitted`): what happened, in
the words of the protocol. Each code is registered here once, with its translated label (what
the chronology and the history pages show) and the models it may be written on; the audited
save refuses any other code. The read log (AccessLog) records who was shown which file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Model
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Reason:
    code: str
    label: Promise | str
    # The models (`app_label.modelname`) a row with this reason may be written on.
    models: tuple[str, ...]


REASONS: dict[str, Reason] = {}


def register_reason(code: str, label: Promise | str, *models: str) -> Reason:
    """Add a reason to the registry. The project's own are registered below; a test suite may
    add its own the same way. Registering a code again with other words is an error."""
    if not models:
        raise ValueError(f"audit reason {code!r}: name the models it is written on")
    reason = Reason(code=code, label=label, models=tuple(m.lower() for m in models))
    existing = REASONS.setdefault(code, reason)
    if existing != reason:
        raise ValueError(f"audit reason {code!r} is already registered differently")
    return existing


def reason_for(code: str, obj: Model) -> Reason:
    """The registered reason `code`, checked against the object it is written on. An unknown
    code, or one for another model, is a programming error."""
    reason = REASONS.get(code)
    if reason is None:
        raise ValueError(f"unregistered audit reason {code!r}: add it to casework.audit")
    if obj._meta.label_lower not in reason.models:
        raise ValueError(f"audit reason {code!r} is not written on {obj._meta.label_lower}")
    return reason


def reason_label(code: str | None) -> str:
    """What the chronology shows for a history row's reason. A code no longer registered (an
    old row) is shown as it is; a row without one as a dash."""
    if not code:
        return "—"
    reason = REASONS.get(code)
    return str(reason.label) if reason else code


# Changes made in the administration site, per model edited there (casework.admin).
ADMIN_EDITED = (
    "municipality",
    "district",
    "agency",
    "child",
    "guardian",
    "service",
    "contact",
    "protocolsettings",
    "referent",
    "helplinehours",
    "mailingcategory",
)


def admin_reason(obj: Model, *, created: bool) -> str:
    return f"casework.admin.{obj._meta.model_name}.{'created' if created else 'changed'}"


REFERRAL = "casework.referral"
INFORMATION_REQUEST = "casework.informationrequest"
CASE = "casework.case"
CASE_PLAN = "casework.caseplan"
CASE_TEAM_MEMBER = "casework.caseteammember"
CASE_TRANSFER = "casework.casetransfer"
PROTOCOL_VERSION = "casework.protocolversion"

# (code, label, model, ...) of every reason the project writes.
PROJECT_REASONS = (
    ("casework.referral.drafted", _("Referral drafted"), REFERRAL),
    ("casework.referral.draft_updated", _("Draft changed"), REFERRAL),
    ("casework.referral.draft_deleted", _("Draft deleted by its author"), REFERRAL),
    ("casework.referral.sent_for_validation", _("Sent to the school referent"), REFERRAL),
    ("casework.referral.validated", _("Validated by the school referent"), REFERRAL),
    ("casework.referral.submitted", _("Referral sent to the social team"), REFERRAL),
    ("casework.referral.claimed", _("Claimed for triage"), REFERRAL),
    ("casework.referral.released", _("Put back in the queue"), REFERRAL),
    ("casework.referral.information_requested", _("More information requested"), REFERRAL),
    ("casework.referral.information_received", _("The referrer answered"), REFERRAL),
    ("casework.referral.case_opened", _("Case opened"), REFERRAL),
    ("casework.referral.linked_to_case", _("Linked to the open case"), REFERRAL),
    ("casework.referral.redirected", _("Redirected to a service"), REFERRAL),
    ("casework.referral.closed_no_action", _("Closed with no further action"), REFERRAL),
    ("casework.referral.escalated", _("Escalated"), REFERRAL),
    ("casework.referral.feedback_sent", _("Feedback sent to the referrer"), REFERRAL),
    (
        "casework.referral.involvement_concluded",
        _("The referrer told that the social service concluded its involvement"),
        REFERRAL,
    ),
    (
        "casework.referral.contact_person_changed",
        _("The referrer's contact person changed with the case's lead worker"),
        REFERRAL,
    ),
    ("casework.information_request.created", _("Question to the referrer"), INFORMATION_REQUEST),
    ("casework.information_request.answered", _("Answer from the referrer"), INFORMATION_REQUEST),
    ("casework.case.opened", _("Case opened"), CASE),
    ("casework.case.reviewed", _("Periodic review recorded"), CASE),
    ("casework.case.extraordinary_review", _("Extraordinary review recorded"), CASE),
    ("casework.case.review_brought_forward", _("Next periodic review brought forward"), CASE),
    ("casework.case.closure_requested", _("Closure proposed"), CASE),
    ("casework.case.closed", _("Case closed"), CASE),
    ("casework.case.closure_rejected", _("Closure refused, case kept open"), CASE),
    ("casework.case.lead_changed", _("Lead worker changed by the supervisor"), CASE),
    ("casework.case.transferred", _("Case moved to another district"), CASE),
    ("casework.case_plan.created", _("Plan created"), CASE_PLAN),
    ("casework.case_plan.updated", _("Plan written"), CASE_PLAN),
    ("casework.case_team.lead_assigned", _("Lead worker assigned"), CASE_TEAM_MEMBER),
    ("casework.case_team.member_added", _("Professional added to the team"), CASE_TEAM_MEMBER),
    (
        "casework.case_team.member_removed",
        _("Professional removed from the team"),
        CASE_TEAM_MEMBER,
    ),
    ("casework.case_team.access_renewed", _("Access to the case extended"), CASE_TEAM_MEMBER),
    (
        "casework.case_team.membership_ended",
        _("Left the team: their role in the agency ended"),
        CASE_TEAM_MEMBER,
    ),
    (
        "casework.case_team.lead_handed_over",
        _("Left the team: the case has a new lead worker"),
        CASE_TEAM_MEMBER,
    ),
    (
        "casework.case_team.left_with_transfer",
        _("Left the team: the case moved to another district"),
        CASE_TEAM_MEMBER,
    ),
    ("casework.action.added", _("Action added"), "casework.action"),
    ("casework.action.reassigned", _("Action handed to the new lead worker"), "casework.action"),
    ("casework.handover.sent", _("Hand-over note sent to the school"), "casework.handover"),
    (
        "casework.handover.acknowledged",
        _("Hand-over note acknowledged by the school"),
        "casework.handover",
    ),
    ("casework.protocol_version.created", _("Protocol version created"), PROTOCOL_VERSION),
    ("casework.protocol_version.updated", _("Protocol version changed"), PROTOCOL_VERSION),
    (
        "casework.protocol_version.superseded",
        _("Protocol version ends: the next one starts"),
        PROTOCOL_VERSION,
    ),
    ("casework.case_transfer.lead_changed", _("Lead worker changed"), CASE_TRANSFER),
    ("casework.case_transfer.requested", _("Transfer to another district asked"), CASE_TRANSFER),
    ("casework.case_transfer.accepted", _("Transfer accepted"), CASE_TRANSFER),
    ("casework.case_transfer.refused", _("Transfer refused"), CASE_TRANSFER),
    ("casework.case_transfer.withdrawn", _("Transfer request withdrawn"), CASE_TRANSFER),
    ("casework.action.updated", _("Action updated"), "casework.action"),
    ("casework.review.recorded", _("Review meeting recorded"), "casework.review"),
    (
        "casework.review.extraordinary_recorded",
        _("Extraordinary review meeting recorded"),
        "casework.review",
    ),
    ("casework.attachment.added", _("Document attached"), "casework.attachment"),
    ("casework.note.added", _("Note written"), "casework.note"),
    ("casework.child.created", _("Child recorded"), "casework.child"),
    ("casework.child.corrected", _("Child's data corrected in the draft"), "casework.child"),
    ("casework.child.linked", _("Linked to a child already known"), "casework.child"),
    ("casework.child.confirmed_new", _("Confirmed as a child not known before"), "casework.child"),
    ("casework.guardian.created", _("Parent or guardian recorded"), "casework.guardian"),
    ("casework.guardian.removed", _("Parent or guardian removed"), "casework.guardian"),
    ("casework.membership.created", _("Role given"), "casework.membership"),
    ("casework.membership.reactivated", _("Role given again"), "casework.membership"),
    ("casework.membership.deactivated", _("Role ended"), "casework.membership"),
    ("casework.api_client.created", _("API client created"), "casework.apiclient"),
    ("casework.api_client.retired", _("API client retired"), "casework.apiclient"),
    ("casework.service.created", _("Service added to the directory"), "casework.service"),
    ("casework.service.updated", _("Service changed"), "casework.service"),
    ("casework.service.withdrawn", _("Taken off the directory"), "casework.service"),
    (
        "casework.service.imported",
        _("Brought from an Open Referral (HSDS) file"),
        "casework.service",
    ),
    ("casework.referent.created", _("Referent added"), "casework.referent"),
    ("casework.referent.updated", _("Referent changed"), "casework.referent"),
    ("casework.referent.withdrawn", _("Referent no longer to call"), "casework.referent"),
    ("casework.contact.recorded", _("Helpline contact recorded"), "casework.contact"),
    ("casework.contact.services_pointed", _("Services pointed to"), "casework.contact"),
    ("casework.contact.imported", _("Contact brought from a register"), "casework.contact"),
    ("casework.subscriber.requested", _("Subscription requested"), "casework.subscriber"),
    ("casework.subscriber.confirmed", _("Subscription confirmed"), "casework.subscriber"),
    ("casework.subscriber.unsubscribed", _("Unsubscribed"), "casework.subscriber"),
    ("casework.subscriber.erased", _("Personal data erased on request"), "casework.subscriber"),
    (
        "casework.subscriber.imported",
        _("Subscriber brought from a register"),
        "casework.subscriber",
    ),
    ("casework.mailing.written", _("Mailing written"), "casework.mailing"),
    ("casework.mailing.sending", _("Mailing being sent"), "casework.mailing"),
    ("casework.mailing.sent", _("Mailing sent"), "casework.mailing"),
    ("casework.mailing.imported", _("Mailing brought from a register"), "casework.mailing"),
    # Family information and consent on a case; the data subject's requests (issue 16).
    (
        "casework.family_information.recorded",
        _("The family was informed"),
        "casework.familyinformation",
    ),
    ("casework.consent.given", _("Consent given by the family"), "casework.consent"),
    ("casework.consent.withdrawn", _("Consent withdrawn by the family"), "casework.consent"),
    ("casework.objection.raised", _("Objection raised by the family"), "casework.objection"),
    ("casework.objection.handled", _("Objection handled"), "casework.objection"),
    (
        "casework.sharing.recorded",
        _("File shared with an agency, with its legal basis"),
        "casework.sharing",
    ),
    (
        "casework.subject_access.recorded",
        _("Subject access request recorded"),
        "casework.subjectaccessrequest",
    ),
    (
        "casework.rectification.requested",
        _("Rectification request recorded"),
        "casework.rectificationrequest",
    ),
    (
        "casework.rectification.accepted",
        _("Rectification accepted"),
        "casework.rectificationrequest",
    ),
    (
        "casework.rectification.refused",
        _("Rectification refused"),
        "casework.rectificationrequest",
    ),
    ("casework.child.rectified", _("Corrected on the person's request"), "casework.child"),
    ("casework.guardian.rectified", _("Corrected on the person's request"), "casework.guardian"),
    ("casework.legal_hold.placed", _("Legal hold placed"), "casework.legalhold"),
    ("casework.legal_hold.lifted", _("Legal hold lifted"), "casework.legalhold"),
    ("casework.consultation.asked", _("Consultation asked"), "casework.consultation"),
    ("casework.consultation.answered", _("The social team answered"), "casework.consultation"),
    (
        "casework.consultation.referred",
        _("Consultation turned into a referral"),
        "casework.consultation",
    ),
    (
        "casework.consultation.followed_up",
        _("The school asked again in the consultation"),
        "casework.consultation",
    ),
    (
        "casework.consultation_message.written",
        _("Message written in the consultation"),
        "casework.consultationmessage",
    ),
    ("casework.pattern_alert.raised", _("Pattern alert raised"), "casework.patternalert"),
    (
        "casework.pattern_alert.acknowledged",
        _("Pattern alert acknowledged"),
        "casework.patternalert",
    ),
    ("casework.pattern_alert.dismissed", _("Pattern alert dismissed"), "casework.patternalert"),
    (
        "casework.network_meeting.recorded",
        _("Network meeting recorded"),
        "casework.networkmeeting",
    ),
    (
        "casework.network_meeting.updated",
        _("Network meeting changed"),
        "casework.networkmeeting",
    ),
    ("casework.meeting_action.agreed", _("Action agreed"), "casework.meetingaction"),
    ("casework.meeting_action.updated", _("Agreed action updated"), "casework.meetingaction"),
    (
        "casework.demo.loaded",
        _("Demo data loaded"),
        "casework.district",
        "casework.agency",
        "casework.municipality",
        "casework.protocolversion",
    ),
    *(
        (f"casework.admin.{model}.{verb}", label, f"casework.{model}")
        for model in ADMIN_EDITED
        for verb, label in (
            ("created", _("Created in the administration")),
            ("changed", _("Changed in the administration")),
        )
    ),
)
for _entry in PROJECT_REASONS:
    register_reason(*_entry)


# What each kind of read in the access log was, in the words of the "who has looked at this
# file" page (the log keeps the code; an unknown code is shown as it is).
ACCESS_ACTIONS = {
    "home": _("Listed on their home page"),
    "queue": _("Listed in the triage queue"),
    "referral.list": _("Listed among the referrals"),
    "referral.view": _("Opened the referral"),
    "referral.decide": _("Opened the decision page"),
    "referral.history": _("Read the referral's audit history"),
    "case.list": _("Listed among the cases"),
    "case.view": _("Opened the case"),
    "case.change": _("Changed the case"),
    "case.history": _("Read the case's audit history"),
    "case.access_report": _("Read who has looked at the file"),
    "attachment.download": _("Downloaded a document"),
    "referral.attachments": _("Listed the referral's documents"),
    "case.attachments": _("Listed the case's documents"),
    "case.notes": _("Read the case notes"),
    "audit.search": _("Found in an audit search"),
    "referral.matches": _("Saw it among the possible matches at triage"),
    "trail.unlock": _("Opened the values of the trail (break-glass)"),
    "case.closure_decision": _("Opened the closure decision"),
    "case.transfer": _("Read a transfer request of the case"),
    "handover.list": _("Listed among the school's hand-over notes"),
    "handover.view": _("Read a hand-over note (the school)"),
    "case.family": _("Read what the family was told and agreed to"),
    "subject_access.export": _("Included in a subject access export"),
    "dpo.subject_access": _("Listed on the data protection officer's subject access page"),
    "admin.list": _("Listed in the administration"),
    "admin.search": _("Found by a search in the administration"),
    "admin.view": _("Opened in the administration"),
    "admin.history": _("Read its history in the administration"),
}


def access_action_label(code: str) -> str:
    label = ACCESS_ACTIONS.get(code)
    return str(label) if label is not None else code


def _address(request) -> str | None:
    # REMOTE_ADDR is the proxy's address behind a reverse proxy; the proxy's own log has the
    # client. Trusting X-Forwarded-For here would let anyone write any address in the log.
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    request, *, action: str, referrals=(), cases=(), children=(), door: str | None = None
) -> int:
    """Record that the request's user was shown these referrals, cases and children: one row
    per record opened, one row per kind for a list (its ids in `object_ids`). One INSERT."""
    from .models import AccessLog

    user = request.user
    if not getattr(user, "is_authenticated", False):
        return 0
    if door is None:
        door = AccessLog.Door.API if request.path.startswith("/api/") else AccessLog.Door.WEB
    common = {
        "user": user,
        "door": door,
        "action": action,
        "address": _address(request),
        "path": request.path[:200],
    }
    rows = []
    for kind, objects in (
        (AccessLog.Kind.REFERRAL, referrals),
        (AccessLog.Kind.CASE, cases),
        (AccessLog.Kind.CHILD, children),
    ):
        ids = list(dict.fromkeys(_pk(obj) for obj in objects))
        if len(ids) == 1:
            rows.append(AccessLog(object_type=kind, object_id=ids[0], **common))
        elif ids:
            rows.append(AccessLog(object_type=kind, object_ids=ids, **common))
    if len(rows) == 1:
        # One row (a list page, a record opened): a plain INSERT, without the transaction
        # bulk_create opens around it (BEGIN and COMMIT are two more round trips), and
        # without the ORM compiling the statement again at every request.
        _insert_one(rows[0])
    else:
        AccessLog.objects.bulk_create(rows)
    return len(rows)


_INSERTS: dict = {}


def _insert_one(row) -> None:
    """The INSERT `row.save(force_insert=True)` sends, written once per database and model:
    every concrete field but the primary key, each value prepared by its field as the ORM
    prepares it (the same row written: tests/casework/test_read_log.py). The read log has no
    signals to send."""
    from django.db import connections, router

    model = type(row)
    alias = router.db_for_write(model)
    connection = connections[alias]
    key = (alias, model)
    statement = _INSERTS.get(key)
    if statement is None:
        fields = [f for f in model._meta.local_concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from _meta
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in fields),
            ", ".join(["%s"] * len(fields)),
        )
        statement = _INSERTS[key] = (sql, fields)
    sql, fields = statement
    params = [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _pk(obj) -> int:
    return obj if isinstance(obj, int) else obj.pk


def access_report(case) -> list:
    """Who has looked at this case or at the referrals it was opened from: the records
    opened and the lists they were a line of."""
    from .models import AccessLog

    referral_ids = list(case.referrals.values_list("pk", flat=True))
    reads = AccessLog.objects.showing(AccessLog.Kind.CASE, [case.pk])
    if referral_ids:
        reads = reads | AccessLog.objects.showing(AccessLog.Kind.REFERRAL, referral_ids)
    rows = list(reads.select_related("user").order_by("-at", "-pk")[:1000])
    ours = {AccessLog.Kind.CASE: {case.pk}, AccessLog.Kind.REFERRAL: set(referral_ids)}
    for row in rows:
        # The records of this file the read showed (a list shows others too: not named here).
        row.shown = (
            [row.object_id]
            if row.object_id is not None
            else [pk for pk in row.object_ids if pk in ours.get(row.object_type, ())]
        )
    return rows
