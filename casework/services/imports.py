"""Last years' registers brought in from CSV (manage.py import_network_data).

A file is read whole and checked row by row before anything is written; the rows are then
written in one transaction. The first bad value stops the import with its line and column,
and nothing of the file is kept.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import permissions
from ..models import Contact, District, Mailing, MailingCategory, Subscriber
from .common import audited_save

__all__ = ["ImportError_", "network_import"]

KINDS = ("subscribers", "mailings", "contacts")
COLUMNS = {
    "subscribers": ("kind", "name", "email", "categories", "subscribed_on"),
    "mailings": ("sent_on", "category", "subject"),
    "contacts": ("date", "channel", "caller", "category"),
}
CALLERS = ("family", "institution", "professional")
# What an imported contact says in place of the question (the registers kept none).
IMPORTED_QUESTION = "(imported from the register)"


class ImportError_(Exception):  # noqa: N801 - not the builtin
    """A bad value: the line of the file (the header is line 1) and the column."""

    def __init__(self, line: int, column: str, message: str):
        self.line, self.column, self.message = line, column, message
        super().__init__(
            _("line %(line)s, column %(column)s: %(message)s")
            % {"line": line, "column": column, "message": message}
        )


class _Row:
    def __init__(self, line: int, values: dict):
        self.line, self.values = line, values

    def fail(self, column: str, message: str):
        raise ImportError_(self.line, column, message)

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            self.fail(column, _("a value is required"))
        return value

    def date(self, column: str, *, required: bool = True) -> datetime.date | None:
        value = self.text(column, required=required)
        if not value:
            return None
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.fail(column, _("%(value)r is not a date (YYYY-MM-DD)") % {"value": value})

    def choice(self, column: str, choices: Iterable[str], *, required: bool = True) -> str:
        value = self.text(column, required=required)
        choices = list(choices)
        if value and value not in choices:
            self.fail(
                column,
                _("%(value)r is not one of %(choices)s")
                % {"value": value, "choices": ", ".join(choices)},
            )
        return value


def _reader(text: str, kind: str) -> list[_Row]:
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS[kind] if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(1, missing[0], _("the column is missing from the header"))
    # reader.line_num counts physical lines (a quoted value may span several).
    rows = []
    for values in reader:
        rows.append(_Row(reader.line_num, values))
    return rows


def _district(row: _Row, districts: dict) -> District | None:
    code = row.text("district", required=False)
    if code and code not in districts:
        row.fail("district", _("no district has the code %(code)r") % {"code": code})
    return districts.get(code) if code else None


def _category(row: _Row, column: str, categories: dict) -> MailingCategory:
    code = row.text(column)
    if code not in categories:
        row.fail(column, _("no mailing category has the code %(code)r") % {"code": code})
    return categories[code]


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=timezone.get_current_timezone())


@transaction.atomic
def network_import(*, kind: str, text: str, actor) -> int:
    """Bring one register (CSV text) in whole, or not at all. Returns the rows written."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not (actor.is_superuser or permissions.can_manage_mailing_list(actor)):
        raise PermissionDenied(_("Only the helpline or an administrator imports registers."))
    districts = {d.code: d for d in District.objects.all()}
    categories = {c.code: c for c in MailingCategory.objects.all()}
    rows = _reader(text, kind)
    build = {"subscribers": _subscriber, "mailings": _mailing, "contacts": _contact}[kind]
    seen: set[str] = set()
    written = [
        build(row, districts=districts, categories=categories, actor=actor, seen=seen)
        for row in rows
    ]
    for row, (_obj, save) in zip(rows, written, strict=True):
        try:
            save()
        except ValidationError as error:
            field, messages = next(iter(error.message_dict.items()))
            raise ImportError_(row.line, field, " ".join(messages)) from error
    return len(written)


def _subscriber(row: _Row, *, districts, categories, actor, seen):
    kind = row.choice("kind", Subscriber.Kind.values)
    institution_type = row.choice(
        "institution_type",
        Subscriber.InstitutionType.values,
        required=kind == Subscriber.Kind.INSTITUTION,
    )
    if kind == Subscriber.Kind.FAMILY and institution_type:
        row.fail("institution_type", _("only institutions have a type"))
    email = row.text("email")
    try:
        validate_email(email)
    except ValidationError:
        row.fail("email", _("%(value)r is not an e-mail address") % {"value": email})
    if email.lower() in seen or Subscriber.objects.filter(email__iexact=email).exists():
        row.fail("email", _("this address is already on the list"))
    seen.add(email.lower())
    codes = [c.strip() for c in row.text("categories").split(";") if c.strip()]
    for code in codes:
        if code not in categories:
            row.fail("categories", _("no mailing category has the code %(code)r") % {"code": code})
    subscribed_on = row.date("subscribed_on")
    unsubscribed_on = row.date("unsubscribed_on", required=False)
    if unsubscribed_on and unsubscribed_on < subscribed_on:
        row.fail("unsubscribed_on", _("before the subscription date"))
    subscriber = Subscriber(
        kind=kind,
        institution_type=institution_type,
        name=row.text("name", required=False),
        email=email,
        district=_district(row, districts),
        subscribed_on=subscribed_on,
        unsubscribed_on=unsubscribed_on,
        consent_text=_("Consent recorded in the register before this system."),
        consent_at=_midnight(subscribed_on),
        created_at=_midnight(subscribed_on),
    )

    def save():
        audited_save(subscriber, actor=actor, reason="casework.subscriber.imported")
        subscriber.categories.set([categories[c] for c in codes])

    return subscriber, save


def _mailing(row: _Row, *, districts, categories, actor, seen):
    sent_on = row.date("sent_on")
    mailing = Mailing(
        category=_category(row, "category", categories),
        subject=row.text("subject"),
        district=_district(row, districts),
        author=actor,
        status=Mailing.Status.SENT,
        sent_on=sent_on,
        created_at=_midnight(sent_on),
        finished_at=_midnight(sent_on),
        imported=True,
    )
    return mailing, lambda: audited_save(mailing, actor=actor, reason="casework.mailing.imported")


def _contact(row: _Row, *, districts, categories, actor, seen):
    day = row.date("date")
    contact = Contact(
        operator=actor,
        contacted_at=_midnight(day),
        channel=row.choice("channel", Contact.Channel.values),
        category=row.choice("category", Contact.Category.values),
        district=_district(row, districts),
        question=IMPORTED_QUESTION,
    )
    caller = row.choice("caller", CALLERS)
    # The contact's caller is the helpline desk's field (issue 13, the directory's branch):
    # kept when the model has it.
    if hasattr(contact, "caller"):
        contact.caller = caller

    return contact, lambda: audited_save(contact, actor=actor, reason="casework.contact.imported")
