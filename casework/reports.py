"""The yearly report as tables, and its CSV, XLSX and PDF files.

One list of tables (`report_tables`) feeds the page, the CSV, the workbook and the PDF, so
that they show the same figures as the JSON of /api/v1/indicators/. The workbook is written
by openpyxl (the maintained reference library for .xlsx) and the PDF by WeasyPrint from the
same template the page uses for print; neither format is written by hand here.
"""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import (
    DEFAULT_CATEGORIES,
    AgeBand,
    ConcernCategory,
    Contact,
    MailingCategory,
    Referral,
    Subscriber,
    Urgency,
)

SUMMARY = "summary"


def _labels() -> dict[str, dict]:
    categories = {c.code: c.label for c in MailingCategory.objects.all()}
    caller = getattr(Contact, "Caller", None)
    return {
        "referrals.by_category": dict(ConcernCategory.choices),
        "referrals.by_urgency": dict(Urgency.choices),
        "referrals.by_outcome": dict(Referral.Status.choices),
        "contacts.by_channel": dict(Contact.Channel.choices),
        "contacts.by_category": dict(Contact.Category.choices),
        "contacts.by_caller": dict(caller.choices) if caller else {},
        "mailing_list.institutions_by_type": dict(Subscriber.InstitutionType.choices),
        "mailings.by_category": {**DEFAULT_CATEGORIES, **categories},
        "consultations.by_age_band": dict(AgeBand.choices),
    }


TITLES = {
    "referrals.by_category": gettext_lazy("Referrals by area of concern"),
    "referrals.by_source_agency": gettext_lazy("Referrals by referring agency"),
    "referrals.by_urgency": gettext_lazy("Referrals by urgency"),
    "referrals.by_outcome": gettext_lazy("Referrals by outcome"),
    "referrals.by_district": gettext_lazy("Referrals by district"),
    "contacts.by_channel": gettext_lazy("Helpline contacts by channel"),
    "contacts.by_category": gettext_lazy("Helpline contacts by category"),
    "contacts.by_caller": gettext_lazy("Helpline contacts by caller"),
    "mailing_list.institutions_by_type": gettext_lazy(
        "Institutions on the mailing list by type (31 December)"
    ),
    "mailings.by_category": gettext_lazy("Mailings by category"),
    "consultations.by_age_band": gettext_lazy("Consultations by age of the child"),
}

FIGURES = {
    "referrals.total": gettext_lazy("Referrals received"),
    "triage.decided": gettext_lazy("Referrals decided at triage"),
    "triage.median_hours": gettext_lazy("Time to triage decision, median (hours)"),
    "triage.p90_hours": gettext_lazy("Time to triage decision, 90th percentile (hours)"),
    "triage.within_deadline_share": gettext_lazy("Share decided within the deadline"),
    "cases.opened": gettext_lazy("Cases opened"),
    "cases.closed": gettext_lazy("Cases closed"),
    "cases.reviews_held": gettext_lazy("Reviews held"),
    "cases.reviews_on_time": gettext_lazy("Reviews held on time"),
    "contacts.total": gettext_lazy("Helpline contacts"),
    "mailing_list.families": gettext_lazy("Families on the mailing list (31 December)"),
    "mailing_list.institutions": gettext_lazy("Institutions on the mailing list (31 December)"),
    "mailings.total": gettext_lazy("Mailings sent"),
    "consultations.total": gettext_lazy("Consultations asked before a referral"),
    "consultations.answered": gettext_lazy("Consultations answered"),
    "consultations.answered_in_time": gettext_lazy("Consultations answered within the deadline"),
    "consultations.referred": gettext_lazy("Consultations turned into a referral"),
    "pattern_alerts.raised": gettext_lazy("Pattern alerts raised"),
    "pattern_alerts.acknowledged": gettext_lazy("Pattern alerts acknowledged"),
    "pattern_alerts.dismissed": gettext_lazy("Pattern alerts dismissed"),
    "network.meetings": gettext_lazy("Network meetings held"),
    "network.actions_agreed": gettext_lazy("Actions agreed at network meetings"),
    "network.actions_done": gettext_lazy("Agreed actions done"),
}


def report_tables(report: dict) -> list[dict]:
    """[{key, title, rows: [(code, label, value)]}]: first the single figures, then one table
    per breakdown, in the order of the report, rows by count (largest first)."""
    labels = _labels()
    summary = []
    for key, title in FIGURES.items():
        section, figure = key.split(".")
        if section in report:
            summary.append((key, str(title), report[section].get(figure)))
    tables = [{"key": SUMMARY, "title": _("The year in figures"), "rows": summary}]
    for key, title in TITLES.items():
        section, breakdown = key.split(".")
        values = report.get(section, {}).get(breakdown)
        if values is None:
            continue
        names = labels.get(key, {})
        rows = sorted(
            ((code, str(names.get(code, code or "—")), n) for code, n in values.items()),
            key=lambda row: (-row[2], row[0]),
        )
        tables.append({"key": key, "title": str(title), "rows": rows})
    return tables


def report_csv(report: dict) -> str:
    """Every table in one CSV: table, code, label, value (spreadsheet-safe text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "code", "label", "value"])
    for table in report_tables(report):
        for code, label, value in table["rows"]:
            writer.writerow([table["key"], code, _safe(label), "" if value is None else value])
    return out.getvalue()


def _safe(text: str) -> str:
    """A label that a spreadsheet would run as a formula is written as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def report_xlsx(report: dict) -> bytes:
    """One worksheet per table: its key and title, a header row, the rows. (Sheet names are
    cut at 31 characters, so the key is written in A1.)"""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for index, table in enumerate(report_tables(report)):
        # Sheet names: at most 31 characters, unique; the table's key is both.
        sheet = book.create_sheet(title=f"{index:02d} {table['key']}"[:31])
        sheet.append([table["key"], table["title"]])
        sheet.append([_("Code"), _("Label"), _("Value")])
        for code, label, value in table["rows"]:
            sheet.append([code, _safe(label), value])
        sheet.column_dimensions["B"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _no_fetch(url, *args, **kwargs):
    raise ValueError("the report's PDF loads nothing from outside its own HTML")


def report_pdf(html: str) -> bytes:
    """The report's print version (self-contained HTML) as a PDF, by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()
