"""Migration 0025 (one source for each protocol setting): the values of the global row are
copied to every protocol version and every municipality before the row loses them; a district
with no municipality joins the upgrade's municipality with the row's deadlines; going back
puts the values on the row again."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("casework", "0024_api_clients")]
AFTER = [("casework", "0025_protocol_one_source")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.django_db(transaction=True)
def test_the_rows_values_move_to_the_versions_and_municipalities_and_back():
    old = _migrate(BEFORE)
    row = old.get_model("casework", "ProtocolSettings").objects.create(
        pk=1,
        routine_days=12,
        consultation_answer_days=4,
        pattern_window_days=45,
        pattern_threshold=5,
        retention_contact_days=400,
        retention_access_log_days=500,
    )
    Municipality = old.get_model("casework", "Municipality")  # noqa: N806
    ProtocolVersion = old.get_model("casework", "ProtocolVersion")  # noqa: N806
    town = Municipality.objects.create(code="town", name="Town")
    version = ProtocolVersion.objects.create(
        municipality=town, number=1, valid_from=datetime.date(2020, 1, 1), routine_days=9
    )
    lone = old.get_model("casework", "District").objects.create(code="lone", name="Lone")

    new = _migrate(AFTER)
    version = new.get_model("casework", "ProtocolVersion").objects.get(pk=version.pk)
    # The version keeps its own deadline and gets the row's consultation and pattern values.
    assert version.routine_days == 9
    assert (version.consultation_answer_days, version.pattern_window_days) == (4, 45)
    assert version.pattern_threshold == 5
    municipalities = new.get_model("casework", "Municipality").objects.order_by("code")
    assert [(m.code, m.retention_contact_days) for m in municipalities] == [
        ("municipality", 400),
        ("town", 400),
    ]
    # The district without a municipality keeps the row's deadlines through its new one.
    lone = new.get_model("casework", "District").objects.get(pk=lone.pk)
    upgrade = new.get_model("casework", "ProtocolVersion").objects.get(
        municipality=lone.municipality
    )
    assert lone.municipality.code == "municipality" and upgrade.routine_days == 12
    assert upgrade.pattern_threshold == 5
    kept = new.get_model("casework", "ProtocolSettings").objects.get(pk=row.pk)
    assert kept.retention_access_log_days == 500
    assert not hasattr(kept, "routine_days") and not hasattr(kept, "retention_contact_days")

    # Back: the first municipality by name ("Municipality") and its version in force.
    back = _migrate(BEFORE)
    row = back.get_model("casework", "ProtocolSettings").objects.get(pk=1)
    assert (row.routine_days, row.pattern_threshold, row.retention_contact_days) == (12, 5, 400)
    assert row.retention_access_log_days == 500


@pytest.fixture(autouse=True)
def _back_to_the_latest_schema():
    """Whatever happens above, the database ends at every app's latest migration (the ones
    after 0025 too): the tests that follow in this process need the whole schema."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
