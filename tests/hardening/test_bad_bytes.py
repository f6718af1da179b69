"""NUL and other control characters are bad input (400 naming the field), never a 500."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("param", ["q", "district", "kind"])
def test_a_nul_in_an_api_filter_is_a_400_naming_it(client, triage_worker, param):
    client.force_login(triage_worker)
    response = client.get(f"/api/v1/services/?{param}=%00")
    assert response.status_code == 400
    assert response.json() == {param: ["This parameter contains control characters."]}
    assert client.get(f"/api/v1/services/?{param}=ok").status_code == 200


def test_a_control_character_on_a_page_is_a_400(client, triage_worker):
    client.force_login(triage_worker)
    response = client.get("/casework/services/?q=a%1Bb")
    assert response.status_code == 400
    assert response.content.decode() == "q: This parameter contains control characters."
    assert client.get("/casework/services/?q=a%09b").status_code == 200  # a tab is text


def test_a_nul_in_a_form_field_is_refused_by_the_field(client, teacher, child):
    client.force_login(teacher)
    response = client.post(
        "/casework/referrals/new/",
        {"child": child.pk, "observations": "bad\x00bytes", "save": "1"},
    )
    assert response.status_code in (200, 422)
    assert "Null characters are not allowed." in response.content.decode()
