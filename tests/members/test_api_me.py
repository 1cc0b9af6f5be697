import pytest

from members.models import Member

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def test_member_updates_display_name_and_consent(api_client, member):
    response = api_client.patch(ME, {"display_name": "  Robin   Hood ", "marketing_consent": True}, format="json")
    assert response.status_code == 200
    assert response.json()["display_name"] == "Robin Hood"
    member.refresh_from_db()
    assert member.marketing_consent and member.marketing_consent_at is not None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"display_name": "<script>alert(1)</script>"}, "display_name"),
        ({"display_name": "x" * 41}, "display_name"),
        ({"marketing_consent": "perhaps"}, "marketing_consent"),
    ],
)
def test_bad_profile_input_is_400_and_writes_nothing(api_client, member, payload, field):
    before = Member.objects.values().get(pk=member.pk)
    response = api_client.patch(ME, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] in {"invalid", "invalid_display_name"}
    assert body["field"] == field
    assert body["detail"]
    assert Member.objects.values().get(pk=member.pk) == before
