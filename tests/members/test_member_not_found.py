"""One member look-up, one error code: every endpoint that names a member answers an unknown one with
`member_not_found` — 404 when the member is the URL's resource, 400 with `field` when the body names it."""

import pytest
from django.utils import timezone

from members.exceptions import MemberNotFound
from members.models import Member
from members.selectors import member_find, member_id_find, member_list, members_find_many
from tests.factories import MemberFactory, RewardFactory

pytestmark = pytest.mark.django_db

NOBODY_ID, NOBODY_EMAIL = 999_999_999, "nobody@example.test"

def _purchase(**member):
    return {**member, "order_id": "NF-1", "amount": "10.00", "occurred_at": timezone.now().isoformat()}


def _assert_member_not_found(response, status, field):
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == "member_not_found" and body["detail"]
    assert body.get("field") == field


@pytest.mark.parametrize(("url", "body", "field"), [
    pytest.param("/api/v1/purchases/", _purchase(member=NOBODY_ID), "member", id="purchase-by-id"),
    pytest.param("/api/v1/purchases/", _purchase(member_email=NOBODY_EMAIL), "member_email", id="purchase-by-email"),
    pytest.param("/api/v1/feedback/", {"member": NOBODY_ID, "category": "delivery", "text": "Hi"}, "member",
                 id="feedback-by-id"),
    pytest.param("/api/v1/feedback/", {"member_email": NOBODY_EMAIL, "category": "delivery", "text": "Hi"},
                 "member_email", id="feedback-by-email"),
    pytest.param("/api/v1/redemptions/", {"member": NOBODY_ID, "reward": "REWARD"}, "member", id="redemption"),
])
def test_a_body_naming_an_unknown_member_is_400_member_not_found(token_client, url, body, field):
    if body.get("reward") == "REWARD":
        body = {**body, "reward": RewardFactory(cost_points=500).pk}
    response = token_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="nf-1")
    _assert_member_not_found(response, 400, field)


def test_a_batch_item_naming_an_unknown_member_is_member_not_found(token_client):
    items = [_purchase(member=NOBODY_ID), {**_purchase(member_email=NOBODY_EMAIL), "order_id": "NF-2"}]
    response = token_client.post("/api/v1/purchases/batch/", {"purchases": items}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["result"], r["code"], r["field"]) for r in results] == [
        ("error", "member_not_found", "member"), ("error", "member_not_found", "member_email")]


@pytest.mark.parametrize("url", [f"/api/v1/members/{NOBODY_ID}/", f"/api/v1/members/{NOBODY_ID}/ledger/"])
def test_an_unknown_member_in_the_url_is_404_member_not_found(token_client, url):
    _assert_member_not_found(token_client.get(url), 404, None)


def test_the_selector_matches_id_email_and_external_id_and_nothing_else(django_assert_num_queries):
    ann = MemberFactory()
    Member.objects.filter(pk=ann.pk).update(email="Ann.Lee@Example.test", external_id="C-1")
    with django_assert_num_queries(1):
        assert member_find(email="  ann.lee@example.TEST ").tier_id == ann.tier_id
    assert member_find(member_id=ann.pk) == member_find(external_id=" C-1 ") == ann
    assert member_id_find(email="ANN.LEE@example.test") == ann.pk
    assert members_find_many(ids=[ann.pk], emails=["ann.lee@example.test"]) == (
        {ann.pk: ann}, {"ann.lee@example.test": ann})
    Member.objects.filter(pk=MemberFactory().pk).update(email="")
    for lookup in ({"email": ""}, {"email": " "}, {"external_id": ""}, {"external_id": "c-1"}):
        with pytest.raises(MemberNotFound) as raised:
            member_find(**lookup, field="member_email")
        assert (raised.value.code, raised.value.status_code) == ("member_not_found", 400)
    assert not member_list(email="").exists()
    with pytest.raises(MemberNotFound) as raised:
        member_id_find(member_id=NOBODY_ID)
    assert raised.value.status_code == 404 and raised.value.field is None
    with pytest.raises(TypeError):
        member_find(member_id=ann.pk, email="ann.lee@example.test")
