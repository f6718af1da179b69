"""Personas, each with a reason to exist.

- teacher (maestra): writes referrals at a North school.
- school_referent: validates and sees the referrals of that school.
- other_teacher: teaches at another North school; must not see the first school's referrals.
- triage_worker: social worker of the North triage team.
- supervisor: supervises North.
- psychologist: health agency in North, joins case teams.
- outsider: social worker of district South; must see nothing of North.
- stranger: a user with no membership at all.
"""

import pytest
from django.apps import apps

from casework import services
from casework.audit import register_reason
from casework.models import Agency, Membership
from tests.factories import AgencyFactory, DistrictFactory, UserFactory

# Reasons only the tests write, for records they build without a service: a case with no
# referral behind it, a note (no service writes notes yet), a contact logged by the
# administrator, and a change of every tracked model.
register_reason("test.case", "Test: case built by a fixture", "casework.case")
register_reason("test.plan", "Test: plan built by a fixture", "casework.caseplan")
register_reason("test.note.added", "Test: note added", "casework.note")
register_reason("test.contact.added", "Test: contact added", "casework.contact")
register_reason("test.mailing.written", "Test: mailing written", "casework.mailing")
register_reason(
    "test.audited.change",
    "Test: any change",
    *(model._meta.label_lower for model in apps.get_app_config("casework").get_models()),
)


# The order in which `make test` hands modules to its two processes (pytest-xdist,
# `--dist loadfile --no-loadscope-reorder`): the permission matrix's two long modules first, so
# that they start at once, one in each process, on a database no test has flushed yet (their
# world is built once per module); the rest; and last the long modules that commit for real
# and flush every table when they end (a live server: schemathesis, the browser, the generated
# client, the Celery worker), so that as few tests as possible run after a flush.
FIRST = [
    "tests/security/test_permission_matrix.py",
    "tests/security/test_permission_matrix_frameworks.py",
]
LAST = [
    "tests/protocols/test_api_schemathesis.py",
    "tests/browser/",
    "tests/protocols/test_api_generated_client.py",
    "tests/integration/",
]


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid
        for i, prefix in enumerate(FIRST):
            if path.startswith(prefix):
                return i
        for i, prefix in enumerate(LAST):
            if path.startswith(prefix):
                return len(FIRST) + 1 + i
        return len(FIRST)

    items.sort(key=rank)  # stable: each module keeps its own order


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """A flush by a transactional test recreates content types with new ids; a cache left
    from before would point permission lookups at ids that no longer exist."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture
def mailing_categories(db):
    """Seed 004's mailing categories, as migration 0018 writes them: a transactional test's
    flush (browser tests) empties the table for the tests that follow in the same process."""
    from casework.models import DEFAULT_CATEGORIES, MailingCategory

    return [
        MailingCategory.objects.get_or_create(code=code, defaults={"name": str(name)})[0]
        for code, name in DEFAULT_CATEGORIES.items()
    ]


@pytest.fixture
def north(db):
    return DistrictFactory(code="north", name="North")


@pytest.fixture
def south(db):
    return DistrictFactory(code="south", name="South")


@pytest.fixture
def school(north):
    return AgencyFactory(name="Primary Rodari", kind=Agency.Kind.SCHOOL, district=north)


@pytest.fixture
def other_school(north):
    return AgencyFactory(name="Primary Collodi", kind=Agency.Kind.SCHOOL, district=north)


@pytest.fixture
def social_north(north):
    return AgencyFactory(
        name="Social services North", kind=Agency.Kind.SOCIAL_SERVICES, district=north
    )


@pytest.fixture
def social_south(south):
    return AgencyFactory(
        name="Social services South", kind=Agency.Kind.SOCIAL_SERVICES, district=south
    )


@pytest.fixture
def health_north(north):
    return AgencyFactory(name="UONPIA North", kind=Agency.Kind.HEALTH, district=north)


def _member(username, agency, role):
    user = UserFactory(username=username)
    services.membership_create(actor=None, user=user, agency=agency, role=role)
    return user


@pytest.fixture
def teacher(school):
    return _member("maestra", school, Membership.Role.TEACHER)


@pytest.fixture
def school_referent(school):
    return _member("referente", school, Membership.Role.SCHOOL_REFERENT)


@pytest.fixture
def other_teacher(other_school):
    return _member("maestro", other_school, Membership.Role.TEACHER)


@pytest.fixture
def triage_worker(social_north):
    return _member("as_north", social_north, Membership.Role.SOCIAL_WORKER)


@pytest.fixture
def supervisor(social_north):
    return _member("coord_north", social_north, Membership.Role.SUPERVISOR)


@pytest.fixture
def psychologist(health_north):
    return _member("psy_north", health_north, Membership.Role.PSYCHOLOGIST)


@pytest.fixture
def outsider(social_south):
    return _member("as_south", social_south, Membership.Role.SOCIAL_WORKER)


@pytest.fixture
def dpo(north):
    """The data protection officer: an auditor of the municipality's data protection office
    (DESIGN.md: the DPO pages, subject access, holds)."""
    office = AgencyFactory(name="Data protection office", kind=Agency.Kind.OTHER, district=north)
    return _member("dpo.audit", office, Membership.Role.AUDITOR)


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger")


@pytest.fixture
def child(north, school, teacher):
    return services.child_create(
        actor=teacher,
        first_name="Luca",
        last_name="Bruno",
        date_of_birth="2016-03-02",
        district=north,
        school=school,
        school_class="4B",
        guardians=[{"name": "Anna Bruno", "relationship": "mother", "phone": "+39 000"}],
    )


def protocol(name: str, **fixed):
    """The protocol step `name` as a plain function of the actor and the referral or case,
    for tests that call it through a helper (e.g. at a frozen moment). It runs through the
    one driver, as the pages and the API do."""
    from protocols import steps

    def run(*, actor, referral=None, case=None, **fields):
        obj = referral if referral is not None else case
        return steps.run_step(name, obj=obj, actor=actor, **fixed, **fields)

    run.__name__ = name
    return run


@pytest.fixture
def case_to_close(teacher, child, triage_worker):
    """A case whose periodic review proposed closing it: the supervisor's decision awaits."""
    import datetime

    import time_machine
    from viewflow.workflow.timers import fire_due_timers

    draft = services.referral_create_draft(
        actor=teacher,
        child=child,
        concern_categories=["neglect"],
        observations="Hungry",
        family_informed=True,
    )
    referral = protocol("referral.submit")(referral=draft, actor=teacher)
    case = protocol("referral.decide")(referral=referral, actor=triage_worker, decision="open_case")
    protocol("case.plan")(actor=triage_worker, case=case, objectives="Meals")
    case.refresh_from_db()
    with time_machine.travel(case.next_review_at + datetime.timedelta(hours=1), tick=False):
        assert fire_due_timers() == 1
        protocol("case.review")(
            actor=triage_worker,
            case=case,
            risk_level="low",
            decision="close",
            notes="Meals are regular, attendance good",
            attendees="Ferri, the mother",
        )
    case.refresh_from_db()
    return case
