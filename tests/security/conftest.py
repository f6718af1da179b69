"""The permission matrix's world, built once per module (tests/security/matrix.py)."""

import logging

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings

from .matrix import fingerprint
from .world import ADMIN, ANONYMOUS, DEAD_CREDENTIALS, PERSONAS, build_world


@pytest.fixture(autouse=True)
def _fresh_content_types():
    """Keeps the content types' cache from one cell to the next (tests/conftest.py clears it
    before every test, for the tests that follow a flush): nothing flushes the database while
    the world stands, and the world fixture clears the cache once before building it."""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        ContentType.objects.clear_cache()
        media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media"))
        media.enable()
        # Thousands of refusals: Django's request log would format a warning for each.
        quiet = logging.getLogger("django.request")
        quiet.disabled = True
        try:
            with transaction.atomic():
                built = build_world()
                staff = {p for p, user in built.users.items() if p in PERSONAS and user.is_staff}
                assert staff == {ADMIN}, f"NOT_STAFF must hold no staff account: {staff}"
                for persona in PERSONAS:
                    if persona != ANONYMOUS and persona not in DEAD_CREDENTIALS:
                        client = Client()
                        client.force_login(built.users[persona])
                        built.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
                # Every cell starts from this state: it runs in a savepoint that is rolled back.
                built.fingerprint = fingerprint()
                yield built
                transaction.set_rollback(True)
        finally:
            quiet.disabled = False
            media.disable()
