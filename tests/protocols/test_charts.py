import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/referral/chart/", "/case/chart/"])
def test_flow_charts_render_for_an_administrator(client, url):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")


@pytest.mark.parametrize("url", ["/referral/chart/", "/case/chart/", "/referral/queue/"])
def test_viewflow_pages_are_closed_to_the_field_roles(client, triage_worker, url):
    client.force_login(triage_worker)
    assert client.get(url).status_code == 403


def test_export_charts_writes_both_svg_files(tmp_path):
    from django.core.management import call_command

    call_command("export_charts", out=str(tmp_path))
    for name in ("referral-flow.svg", "case-flow.svg"):
        assert (tmp_path / name).read_text().startswith("<svg")
