"""The yearly report: registers imported from CSV come out of the API, the page and the
exports figure for figure; who reads which part; bad files are refused whole."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from casework import services
from casework.models import Contact, Mailing, Subscriber
from tests.conftest import protocol
from tests.factories import AgencyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("mailing_categories")]

SUBSCRIBERS = """kind,name,email,institution_type,district,categories,subscribed_on,unsubscribed_on
family,,f1@example.org,,north,family_support;education_school,2024-03-01,
family,,f2@example.org,,,cultural_recreational_sports,2024-05-01,2024-11-30
family,,f3@example.org,,south,socio_economic,2024-06-01,2025-02-01
family,,f4@example.org,,north,family_support,2025-01-15,
institution,Biblioteca,lib@example.org,library,north,education_school,2024-01-10,
institution,Scuola Rodari,school@example.org,school,,education_school;family_support,2024-09-01,
"""
MAILINGS = """sent_on,category,subject,district
2024-02-01,family_support,Winter help,north
2024-04-01,education_school,Summer schools,
2024-06-01,education_school,Enrolment,south
2024-12-31,cultural_recreational_sports,Festival,
2025-01-02,family_support,New year,
"""
CONTACTS = """date,channel,caller,category,district
2024-01-09,phone,family,educational_services,north
2024-01-11,email,institution,social_support,
2024-03-05,phone,professional,health,south
2024-12-31,in_person,family,parenting,north
2025-01-01,phone,family,other,north
"""


@pytest.fixture
def operator(north):
    point = AgencyFactory(name="Family point", kind="other", district=north)
    user = UserFactory(username="operator")
    services.membership_create(actor=None, user=user, agency=point, role="helpline_operator")
    return user


@pytest.fixture
def registers(tmp_path, operator, north, south):
    for kind, text in (
        ("subscribers", SUBSCRIBERS),
        ("mailings", MAILINGS),
        ("contacts", CONTACTS),
    ):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        out = io.StringIO()
        call_command(
            "import_network_data", "--kind", kind, str(path), "--actor", "operator", stdout=out
        )
        assert "imported" in out.getvalue()
    return tmp_path


def api(user, **params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get("/api/v1/indicators/", params)


EXPECTED_2024 = {
    # At 31 December 2024: f1, f3 (left in 2025), lib, school; f2 left in November.
    "mailing_list": {
        "families": 2,
        "institutions": 2,
        "institutions_by_type": {"library": 1, "school": 1},
    },
    "mailings": {
        "total": 4,
        "by_category": {
            "family_support": 1,
            "education_school": 2,
            "cultural_recreational_sports": 1,
        },
    },
    "contacts": {
        "total": 4,
        "by_channel": {"phone": 2, "email": 1, "in_person": 1},
        "by_category": {
            "educational_services": 1,
            "social_support": 1,
            "health": 1,
            "parenting": 1,
        },
    },
}


def test_an_imported_year_comes_out_of_the_api_figure_for_figure(registers):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    report = api(admin, year=2024).json()
    for section, figures in EXPECTED_2024.items():
        for key, value in figures.items():
            assert report[section][key] == value, (section, key)
    assert report["referrals"]["total"] == 0 and report["triage"]["median_hours"] is None
    # One district: only its rows, not those without a district.
    north = api(admin, year=2024, district="north").json()
    assert north["district"] == "north"
    assert north["mailing_list"] == {
        "families": 1,
        "institutions": 1,
        "institutions_by_type": {"library": 1},
    }
    assert north["mailings"] == {"total": 1, "by_category": {"family_support": 1}}
    assert north["contacts"]["by_channel"] == {"phone": 1, "in_person": 1}
    # The next year: f1, f4, lib, school; f3 left on 1 February.
    following = api(admin, year=2025).json()
    assert following["mailing_list"]["families"] == 2
    assert following["mailings"]["total"] == 1 and following["contacts"]["total"] == 1


def test_the_page_and_the_exports_show_the_same_figures(client, registers):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    report = api(admin, year=2024).json()
    page = client.get("/casework/indicators/", {"year": 2024})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-figure="mailing_list.families">2<' in html
    assert 'data-figure="mailings.total">4<' in html
    rows = list(
        csv.DictReader(
            io.StringIO(client.get("/casework/indicators/export.csv?year=2024").content.decode())
        )
    )
    from_csv = {(r["table"], r["code"]): r["value"] for r in rows}
    assert from_csv[("summary", "mailing_list.families")] == "2"
    assert from_csv[("summary", "mailing_list.institutions")] == "2"
    assert from_csv[("summary", "contacts.total")] == "4"
    for code, n in report["mailings"]["by_category"].items():
        assert from_csv[("mailings.by_category", code)] == str(n)
    for code, n in report["contacts"]["by_channel"].items():
        assert from_csv[("contacts.by_channel", code)] == str(n)
    book = load_workbook(
        io.BytesIO(client.get("/casework/indicators/export.xlsx?year=2024").content)
    )
    from_xlsx = {}
    for sheet in book.worksheets:
        key = sheet["A1"].value
        for code, _label, value in sheet.iter_rows(min_row=3, values_only=True):
            from_xlsx[(key, code)] = "" if value is None else str(value)
    assert from_xlsx == {k: v for k, v in from_csv.items()}
    pdf = client.get("/casework/indicators/export.pdf?year=2024")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_bad_value_names_its_line_and_column_and_nothing_is_imported(tmp_path, operator, south):
    path = tmp_path / "contacts.csv"
    path.write_text(
        "date,channel,caller,category,district\n"
        "2024-01-09,phone,family,health,\n"
        "2024-01-10,fax,family,health,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"line 3, column channel: 'fax' is not one of"):
        call_command("import_network_data", "--kind", "contacts", str(path), "--actor", "operator")
    assert not Contact.objects.exists()
    path.write_text(
        SUBSCRIBERS + "family,,dup@example.org,,,family_support,2024-01-01,\n"
        "family,,dup@example.org,,,family_support,2024-01-01,\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=r"line 9, column email: this address is already"):
        call_command(
            "import_network_data", "--kind", "subscribers", str(path), "--actor", "operator"
        )
    assert not Subscriber.objects.exists()
    path.write_text("sent_on,category,subject\n2024-01-01,unknown_code,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 2, column category: no mailing category"):
        call_command("import_network_data", "--kind", "mailings", str(path), "--actor", "operator")
    path.write_text("sent_on,subject\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 1, column category: the column is missing"):
        call_command("import_network_data", "--kind", "mailings", str(path), "--actor", "operator")
    assert not Mailing.objects.exists()


def test_imported_rows_carry_their_audit_reason(registers, operator):
    mailing = Mailing.objects.get(subject="Festival")
    assert mailing.imported and mailing.status == "sent"
    row = mailing.history.get()
    assert (row.history_user, row.history_change_reason) == (operator, "casework.mailing.imported")
    contact = Contact.objects.filter(district=None).get()
    assert contact.history.get().history_change_reason == "casework.contact.imported"


def test_the_helpline_operator_reads_the_helpline_part_only(client, registers, operator):
    report = api(operator, year=2024).json()
    assert set(report) == {"year", "district", "contacts", "mailing_list", "mailings"}
    assert report["contacts"]["total"] == 4
    client.force_login(operator)
    page = client.get("/casework/indicators/", {"year": 2024})
    assert page.status_code == 200 and "referrals" not in page.context["report"]


def test_a_supervisor_reads_their_district_and_the_contacts_with_none(
    registers, supervisor, outsider, teacher
):
    report = api(supervisor, year=2024).json()
    # North's contacts (2) and the one with no district; not South's.
    assert report["contacts"]["total"] == 3
    assert api(supervisor, year=2024, district="south").status_code == 403
    assert api(teacher, year=2024).status_code == 403
    assert api(supervisor, year="next").status_code == 400
    assert api(supervisor, year=2024, district="nowhere").status_code == 400


def test_time_to_triage_median_and_90th_percentile(teacher, triage_worker, child, supervisor):
    now = timezone.now()
    hours = [2, 4, 10, 30]
    for n in hours:
        draft = services.referral_create_draft(
            actor=teacher,
            child=child,
            concern_categories=["neglect"],
            observations="x",
            family_informed=True,
        )
        referral = protocol("referral.submit")(referral=draft, actor=teacher)
        referral.submitted_at = now - datetime.timedelta(hours=n)
        referral.decided_at = now
        referral.save(update_fields=["submitted_at", "decided_at"])
    report = api(supervisor, year=now.year).json()
    assert report["referrals"]["total"] == 4
    assert report["referrals"]["by_category"] == {"neglect": 4}
    assert report["triage"]["decided"] == 4
    assert report["triage"]["median_hours"] == 7.0
    assert report["triage"]["p90_hours"] == 24.0
