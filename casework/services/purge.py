"""The retention purge: past its retention and without a hold, a record goes, and with it
everything that carries its personal data. Nothing of it is left but figures.

What goes with a referral: its notes, documents (the files on disk too), questions to the
referrer, notifications, Viewflow process and tasks, read-log rows (a list row loses the id),
break-glass unlocks, admin log entries, lifted holds, and every history row of all of these;
the child when no other record is about them (with the guardians). With a closed case: all of
the above for each of its referrals, and the team, plan, actions, reviews, notes, documents,
the case team's group and its object permissions.

What stays: the purge register (rule, kind, count, when: no ids, no personal data) and, for
the yearly report, what each record counted for (casework.models.RetainedFigure), so that a
past year's figures do not change.

How it passes the append-only audit tables: it runs on the database alias `owner` when there
is one (DATABASE_OWNER_URL: the role that owns the tables), and each batch sets
`casework.purge` for its own transaction; the trigger lets the owner through then, and the
runtime role has no DELETE grant there anyway (docs/security.md, "The retention purge").

Resumable: records go in bounded batches, each in its own transaction with its register row
and figures. A batch that fails leaves nothing half-done; the next run finds what is still due.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.utils import timezone
from viewflow.workflow.models import Process

from .. import retention
from ..models import (
    AccessLog,
    Action,
    Attachment,
    Case,
    CaseGroupObjectPermission,
    CasePlan,
    CaseTeamMember,
    CaseUserObjectPermission,
    Child,
    Consent,
    Contact,
    FamilyInformation,
    Guardian,
    InformationRequest,
    LegalHold,
    Note,
    Notification,
    Objection,
    PurgeRecord,
    RectificationRequest,
    Referral,
    RetainedFigure,
    Review,
    Sharing,
    SubjectAccessRequest,
    Subscriber,
    TrailUnlock,
)

__all__ = ["PurgeNotPermitted", "PurgeReport", "purge", "purge_alias"]

log = logging.getLogger(__name__)
Rule = PurgeRecord.Rule
BATCH = 50


class PurgeNotPermitted(RuntimeError):
    """The database role the purge runs as may not delete audit rows: run it as the owner."""


@dataclass
class PurgeReport:
    dry_run: bool
    # (rule, kind) → count
    counts: dict = field(default_factory=lambda: defaultdict(int))
    batches: int = 0

    def add(self, rule: str, kind: str, n: int) -> None:
        if n:
            self.counts[(rule, kind)] += n

    def lines(self) -> list[str]:
        return [f"{rule}: {kind} {n}" for (rule, kind), n in sorted(self.counts.items())]


def purge_alias() -> str:
    """The owner's connection when there is one (settings DATABASES["owner"])."""
    return "owner" if "owner" in connections.settings else "default"


def _check_may_delete_audit_rows(using: str) -> None:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege('casework_historicalreferral', 'DELETE')")
        allowed = cursor.fetchone()[0]
    if not allowed:
        raise PurgeNotPermitted(
            "The purge deletes audit rows and this database role may not (the runtime role): "
            "set DATABASE_OWNER_URL to the owner role for the purge (docs/operations.md)."
        )


def _open_audit_tables(using: str) -> None:
    """For this transaction only: the append-only trigger lets the owner through."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('casework.purge', 'on', true)")


# --- the figures of the yearly report ------------------------------------------------------------


class Figures:
    """What the purged records counted for, added up per (year, district, key, code)."""

    def __init__(self):
        self.rows: dict[tuple, int] = defaultdict(int)

    def add(self, when, district_id, key: str, code: str = "", n: int = 1) -> None:
        if when is None:
            return
        year = (
            when.year
            if isinstance(when, datetime.date) and not isinstance(when, datetime.datetime)
            else timezone.localtime(when).year
        )
        self.rows[(year, district_id, key, code or "")] += n

    def save(self, using: str) -> None:
        RetainedFigure.objects.using(using).bulk_create(
            RetainedFigure(year=year, district_id=district, key=key, code=code[:200], count=n)
            for (year, district, key, code), n in self.rows.items()
        )


def _referral_figures(figures: Figures, referral: Referral) -> None:
    sent = referral.submitted_at
    if sent is None:
        return  # a draft never counted
    d = referral.district_id
    figures.add(sent, d, "referrals.total")
    for code in referral.concern_categories or []:
        figures.add(sent, d, "referrals.by_category", code)
    figures.add(sent, d, "referrals.by_source_agency", referral.school.name)
    figures.add(sent, d, "referrals.by_urgency", referral.urgency)
    figures.add(sent, d, "referrals.by_outcome", referral.status)
    figures.add(sent, d, "referrals.by_district", referral.district.code)
    if referral.decided_at is not None:
        hours = (referral.decided_at - sent).total_seconds() / 3600
        figures.add(sent, d, "triage.decided")
        figures.add(sent, d, "triage.hours", repr(hours))
        if referral.triage_due_at is not None and referral.decided_at <= referral.triage_due_at:
            figures.add(sent, d, "triage.in_time")


def _case_figures(figures: Figures, case: Case, using: str) -> None:
    d = case.district_id
    figures.add(case.opened_at, d, "cases.opened")
    figures.add(case.closed_at, d, "cases.closed")
    for review in Review.objects.using(using).filter(case=case, held_on__isnull=False):
        figures.add(review.held_on, d, "cases.reviews_held")
        if review.held_on <= review.scheduled_for + datetime.timedelta(days=1):
            figures.add(review.held_on, d, "cases.reviews_on_time")


def _contact_figures(figures: Figures, contact: Contact) -> None:
    at, d = contact.contacted_at, contact.district_id
    figures.add(at, d, "contacts.total")
    figures.add(at, d, "contacts.by_channel", contact.channel)
    figures.add(at, d, "contacts.by_category", contact.category)
    figures.add(at, d, "contacts.by_caller", contact.caller)


def _subscriber_figures(figures: Figures, subscriber: Subscriber) -> None:
    """On the list at each 31 December between confirming and leaving."""
    if subscriber.subscribed_on is None:
        return
    last = (
        subscriber.unsubscribed_on.year if subscriber.unsubscribed_on else timezone.localdate().year
    )
    for year in range(subscriber.subscribed_on.year, last + 1):
        day = datetime.date(year, 12, 31)
        if subscriber.subscribed_on > day:
            continue
        if subscriber.unsubscribed_on is not None and subscriber.unsubscribed_on <= day:
            continue
        d = subscriber.district_id
        if subscriber.kind == Subscriber.Kind.FAMILY:
            figures.add(day, d, "mailing_list.families")
        else:
            figures.add(day, d, "mailing_list.institutions")
            figures.add(day, d, "mailing_list.institutions_by_type", subscriber.institution_type)


# --- what goes with a record ------------------------------------------------------------------


class Eraser:
    """Deletes records and everything carrying their personal data, in one transaction."""

    def __init__(self, using: str):
        self.using = using
        self.files: set[str] = set()
        self.figures = Figures()

    def qs(self, model):
        return model.objects.using(self.using)

    def raw(self, queryset) -> int:
        """Delete without the ORM's per-object signals: simple-history would write a "-"
        history row (a full copy of the record) for each, on the default connection. The
        callers delete the rows pointing at these first."""
        return queryset._raw_delete(self.using)

    def history(self, model, ids) -> None:
        """Every history row of these records (and the rows of its many-to-many history)."""
        ids = list(ids)
        if not ids:
            return
        history = model.history.model
        rows = self.qs(history).filter(id__in=ids)
        for relation in history._meta.related_objects:  # e.g. HistoricalContact_services
            self.raw(
                self.qs(relation.related_model).filter(
                    **{f"{relation.field.name}__in": rows.values("history_id")}
                )
            )
        self.raw(rows)

    def reads(self, kind: str, ids) -> None:
        """The read log's rows of these records, the break-glass unlocks, the admin's log."""
        ids = sorted(set(ids))
        if not ids:
            return
        logs = self.qs(AccessLog)
        logs.filter(object_type=kind, object_id__in=ids).delete()
        gone = set(ids)
        for row in logs.showing(kind, ids).filter(object_id__isnull=True):
            kept = [pk for pk in row.object_ids if pk not in gone]
            if kept:
                logs.filter(pk=row.pk).update(object_ids=kept)
            else:
                logs.filter(pk=row.pk).delete()
        self.qs(TrailUnlock).filter(object_type=kind, object_id__in=ids).delete()

    def admin_log(self, model, ids) -> None:
        ids = [str(pk) for pk in ids]
        if ids:
            content_type = ContentType.objects.db_manager(self.using).get_for_model(model)
            self.qs(LogEntry).filter(content_type=content_type, object_id__in=ids).delete()

    def processes(self, model, ids) -> None:
        ids = list(ids)
        if ids:
            content_type = ContentType.objects.db_manager(self.using).get_for_model(model)
            self.qs(Process).filter(
                artifact_content_type=content_type, artifact_object_id__in=ids
            ).delete()

    def holds(self, kind: str, ids) -> None:
        """Lifted holds on the records (one in place never reaches here)."""
        hold_ids = list(
            self.qs(LegalHold)
            .filter(kind=kind, object_id__in=list(ids))
            .values_list("pk", flat=True)
        )
        if hold_ids:
            self.raw(self.qs(LegalHold).filter(pk__in=hold_ids))
            self.history(LegalHold, hold_ids)

    def attachment_files(self, attachments) -> None:
        ids = list(attachments.values_list("pk", flat=True))
        self.files |= {name for name in attachments.values_list("file", flat=True) if name}
        self.files |= {
            name
            for name in Attachment.history.model.objects.using(self.using)
            .filter(id__in=ids)
            .values_list("file", flat=True)
            if name
        }

    def referrals(self, ids) -> set[int]:
        """Returns the ids of the children the referrals were about."""
        ids = list(ids)
        if not ids:
            return set()
        referrals = self.qs(Referral).filter(pk__in=ids)
        for referral in referrals.select_related("school", "district"):
            _referral_figures(self.figures, referral)
        children = set(referrals.values_list("child_id", flat=True))
        notes = list(self.qs(Note).filter(referral__in=ids).values_list("pk", flat=True))
        attachments = self.qs(Attachment).filter(referral__in=ids)
        attachment_ids = list(attachments.values_list("pk", flat=True))
        self.attachment_files(attachments)
        requests = list(
            self.qs(InformationRequest).filter(referral__in=ids).values_list("pk", flat=True)
        )
        self.processes(Referral, ids)
        self.reads(AccessLog.Kind.REFERRAL, ids)
        self.admin_log(Referral, ids)
        self.holds(LegalHold.Kind.REFERRAL, ids)
        self.qs(Notification).filter(referral__in=ids).delete()
        self.raw(self.qs(Note).filter(pk__in=notes))
        self.raw(self.qs(Attachment).filter(pk__in=attachment_ids))
        self.raw(self.qs(InformationRequest).filter(pk__in=requests))
        self.raw(self.qs(Referral).filter(pk__in=ids))
        self.history(Referral, ids)
        self.history(Note, notes)
        self.history(Attachment, attachment_ids)
        self.history(InformationRequest, requests)
        return children

    def cases(self, ids) -> set[int]:
        ids = list(ids)
        if not ids:
            return set()
        cases = self.qs(Case).filter(pk__in=ids)
        children = set(cases.values_list("child_id", flat=True))
        for case in cases:
            _case_figures(self.figures, case, self.using)
        children |= self.referrals(
            self.qs(Referral).filter(case__in=ids).values_list("pk", flat=True)
        )
        plans = list(self.qs(CasePlan).filter(case__in=ids).values_list("pk", flat=True))
        actions = list(self.qs(Action).filter(plan__in=plans).values_list("pk", flat=True))
        reviews = list(self.qs(Review).filter(case__in=ids).values_list("pk", flat=True))
        notes = list(self.qs(Note).filter(case__in=ids).values_list("pk", flat=True))
        attachments = self.qs(Attachment).filter(case__in=ids)
        attachment_ids = list(attachments.values_list("pk", flat=True))
        self.attachment_files(attachments)
        members = list(self.qs(CaseTeamMember).filter(case__in=ids).values_list("pk", flat=True))
        # What the family was told and agreed to (services.consent): the sharings first (they
        # point at consents and team members).
        family = [
            (model, list(self.qs(model).filter(case__in=ids).values_list("pk", flat=True)))
            for model in (Sharing, Consent, Objection, FamilyInformation)
        ]
        self.processes(Case, ids)
        self.reads(AccessLog.Kind.CASE, ids)
        self.admin_log(Case, ids)
        self.holds(LegalHold.Kind.CASE, ids)
        # The case team's group, its members' seats in it and its object permissions.
        self.qs(Group).filter(name__in=[f"case:{pk}:team" for pk in ids]).delete()
        self.qs(CaseUserObjectPermission).filter(content_object__in=ids).delete()
        self.qs(CaseGroupObjectPermission).filter(content_object__in=ids).delete()
        self.qs(Notification).filter(case__in=ids).delete()
        self.raw(self.qs(Action).filter(pk__in=actions))
        self.raw(self.qs(CasePlan).filter(pk__in=plans))
        self.raw(self.qs(Review).filter(pk__in=reviews))
        self.raw(self.qs(Note).filter(pk__in=notes))
        self.raw(self.qs(Attachment).filter(pk__in=attachment_ids))
        for model, pks in family:
            self.raw(self.qs(model).filter(pk__in=pks))
        self.raw(self.qs(CaseTeamMember).filter(pk__in=members))
        self.raw(cases)
        for model, pks in (
            (Case, ids),
            (CasePlan, plans),
            (Action, actions),
            (Review, reviews),
            (Note, notes),
            (Attachment, attachment_ids),
            (CaseTeamMember, members),
            *family,
        ):
            self.history(model, pks)
        return children

    def children(self, ids) -> int:
        """The children no record is about any more (and then the known child a typed record
        was linked to, if nothing else is about them). Held children stay."""
        held = retention.held_child_ids(self.using)
        pending, erased = set(ids) - held, 0
        while pending:
            children = self.qs(Child).filter(pk__in=pending)
            free = list(
                children.filter(
                    referrals__isnull=True, cases__isnull=True, typed_records__isnull=True
                )
                .values_list("pk", flat=True)
                .distinct()
            )
            if not free:
                break
            linked = set(
                self.qs(Child)
                .filter(pk__in=free, same_as__isnull=False)
                .values_list("same_as_id", flat=True)
            )
            guardians = list(self.qs(Guardian).filter(child__in=free).values_list("pk", flat=True))
            self.reads(AccessLog.Kind.CHILD, free)
            self.admin_log(Child, free)
            self.admin_log(Guardian, guardians)
            self.holds(LegalHold.Kind.CHILD, free)
            # The data subject's requests about them (the DPO's register keeps no copy).
            for model in (SubjectAccessRequest, RectificationRequest):
                requests = list(self.qs(model).filter(child__in=free).values_list("pk", flat=True))
                self.raw(self.qs(model).filter(pk__in=requests))
                self.history(model, requests)
            self.raw(self.qs(Guardian).filter(pk__in=guardians))
            self.raw(self.qs(Child).filter(pk__in=free))
            self.history(Child, free)
            self.history(Guardian, guardians)
            erased += len(free)
            pending = linked - held
        return erased

    def contacts(self, ids) -> None:
        ids = list(ids)
        for contact in self.qs(Contact).filter(pk__in=ids):
            _contact_figures(self.figures, contact)
        self.admin_log(Contact, ids)
        self.holds(LegalHold.Kind.CONTACT, ids)
        self.qs(Contact.services.through).filter(contact__in=ids).delete()
        self.raw(self.qs(Contact).filter(pk__in=ids))
        self.history(Contact, ids)

    def subscribers(self, ids) -> None:
        ids = list(ids)
        for subscriber in self.qs(Subscriber).filter(pk__in=ids):
            _subscriber_figures(self.figures, subscriber)
        self.qs(Subscriber).filter(pk__in=ids).delete()  # events, deliveries, categories

    def finish(self) -> None:
        """The figures, then the files: last, so that a failure before leaves them all (the
        next run takes the same records again); a failure after the files leaves rows whose
        files are gone, which the next run deletes."""
        self.figures.save(self.using)
        for name in sorted(self.files):
            default_storage.delete(name)


# --- the runs ----------------------------------------------------------------------------------


KIND_LABELS = {
    Rule.DRAFT: "referral",
    Rule.NO_FURTHER_ACTION: "referral",
    Rule.REDIRECTED: "referral",
    Rule.CLOSED_CASE: "case",
    Rule.CONTACT: "contact",
    Rule.SUBSCRIBER: "subscriber",
    Rule.ACCESS_LOG: "access log row",
}


def _register(using: str, rule, kind: str, n: int) -> None:
    if n:
        PurgeRecord.objects.using(using).create(
            rule=rule.code, retention=rule.summary(using), kind=kind, count=n
        )


def _batch(using: str, rule, ids: list[int], report: PurgeReport, on_batch=None) -> None:
    with transaction.atomic(using=using):
        _open_audit_tables(using)
        eraser = Eraser(using)
        counted = {}
        if rule.code in (Rule.DRAFT, Rule.NO_FURTHER_ACTION, Rule.REDIRECTED):
            counted["referral"] = len(ids)
            counted["child"] = eraser.children(eraser.referrals(ids))
        elif rule.code == Rule.CLOSED_CASE:
            referrals = eraser.qs(Referral).filter(case__in=ids).count()
            counted["case"] = len(ids)
            counted["referral"] = referrals
            counted["child"] = eraser.children(eraser.cases(ids))
        elif rule.code == Rule.CONTACT:
            eraser.contacts(ids)
            counted["contact"] = len(ids)
        elif rule.code == Rule.SUBSCRIBER:
            eraser.subscribers(ids)
            counted["subscriber"] = len(ids)
        elif rule.code == Rule.ACCESS_LOG:
            eraser.qs(AccessLog).filter(pk__in=ids).delete()
            counted["access log row"] = len(ids)
        for kind, n in counted.items():
            _register(using, rule, kind, n)
            report.add(rule.code, kind, n)
        if on_batch is not None:
            on_batch(rule.code, ids)  # a test's fault injection point
        eraser.finish()
    report.batches += 1


def purge(
    *,
    dry_run: bool = False,
    rules=None,
    batch_size: int = BATCH,
    now=None,
    using: str | None = None,
    on_batch=None,
) -> PurgeReport:
    """Purge what is due under each rule (all of them, or the codes in `rules`). With
    `dry_run`, count what would go and change nothing."""
    using = using or purge_alias()
    report = PurgeReport(dry_run=dry_run)
    chosen = [r for r in retention.RULES if rules is None or r.code in rules]
    if not dry_run:
        _check_may_delete_audit_rows(using)
    for rule in chosen:
        if rule.code == Rule.HISTORY:
            _purge_history(using, rule, report, dry_run=dry_run, batch_size=batch_size, now=now)
            continue
        if rule.code == Rule.ACCESS_LOG:
            _purge_unlocks(using, rule, report, dry_run=dry_run, now=now)
        if dry_run:
            _count(using, rule, report, now)
            continue
        seen: set[int] = set()
        while True:
            ids = [
                pk
                for pk in retention.due(rule, now=now, using=using).values_list("pk", flat=True)[
                    : batch_size + len(seen)
                ]
                if pk not in seen
            ][:batch_size]
            if not ids:
                break
            _batch(using, rule, ids, report, on_batch)
            seen.update(ids)
    if not dry_run:
        log.info("retention purge: %s", "; ".join(report.lines()) or "nothing due")
    return report


def _count(using: str, rule, report: PurgeReport, now) -> None:
    due = retention.due(rule, now=now, using=using)
    report.add(rule.code, KIND_LABELS[rule.code], due.count())
    if rule.code == Rule.CLOSED_CASE:
        report.add(
            rule.code, "referral", Referral.objects.using(using).filter(case__in=due).count()
        )


def _purge_unlocks(using, rule, report, *, dry_run, now) -> None:
    unlocks = TrailUnlock.objects.using(using).filter(opened_at__lt=retention.cutoff(rule, now))
    if dry_run:
        report.add(rule.code, "break-glass unlock", unlocks.count())
        return
    with transaction.atomic(using=using):
        _open_audit_tables(using)
        n = unlocks.count()
        unlocks.delete()
        _register(using, rule, "break-glass unlock", n)
        report.add(rule.code, "break-glass unlock", n)


def _purge_history(using, rule, report, *, dry_run, batch_size, now) -> None:
    for model in retention.history_models():
        kind = f"{model.instance_type._meta.model_name} history"
        if dry_run:
            report.add(
                rule.code, kind, retention.history_due(model, rule, now=now, using=using).count()
            )
            continue
        while True:
            ids = list(
                retention.history_due(model, rule, now=now, using=using).values_list(
                    "history_id", flat=True
                )[: batch_size * 10]
            )
            if not ids:
                break
            with transaction.atomic(using=using):
                _open_audit_tables(using)
                model.objects.using(using).filter(history_id__in=ids).delete()
                _register(using, rule, kind, len(ids))
            report.add(rule.code, kind, len(ids))
            report.batches += 1
