"""The batch validates each item-less purchase with `PurchaseBaseSerializer` instead of `PurchaseInSerializer`
(`purchase_input`: building the nested items serializer is most of DRF's cost per item). The two must agree on
every body: the same verdict, the same errors, the same validated values (the base serializer is the full one
without its `items` field, so a field added to either is compared here too)."""

from datetime import UTC
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.serializers import PurchaseBaseSerializer, PurchaseInSerializer, purchase_input

MEMBERS = st.one_of(st.integers(min_value=-3, max_value=10**20), st.just("12"), st.none(), st.booleans(),
                    st.floats(allow_nan=False, allow_infinity=False))
TEXT = st.one_of(
    st.text(max_size=120), st.text(alphabet="ab -_.:\x00é", max_size=5), st.just(""), st.just("  A-1 "),
    st.integers(), st.none(), st.lists(st.integers(), max_size=2),
)
AMOUNTS = st.one_of(
    st.decimals(min_value=-10, max_value=10**11, places=3, allow_nan=False).map(str),
    st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{0,3})?\Z"), st.sampled_from(["0", "0.00", "00.5", "1e3", " 5.00", "٣.5"]),
    st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.none(),
)
MOMENTS = st.one_of(
    st.datetimes(timezones=st.sampled_from([None, UTC])).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-03-02T10:00:00Z", "2026-03-02T10:00:00+01:00", "2026-03-02 10:00:00", "2026-03-02",
                     "2026-02-30T10:00:00Z", "yesterday", "2026-03-02T10:00:00.123456-05:30"]),
    st.integers(), st.none(),
)
GOOD = {
    "member": st.integers(min_value=1, max_value=2**63 - 1),
    "member_email": st.sampled_from(["a@b.test", "shop1@example.test"]),
    "order_id": st.from_regex(r"\A[A-Za-z0-9#/ -]{1,100}\Z").filter(lambda t: t == t.strip()),
    "amount": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2).map(str),
    "occurred_at": st.datetimes(timezones=st.sampled_from([UTC])).map(lambda d: d.isoformat()),
    "currency": st.sampled_from(["EUR", "USD", "eur"]),
    "source": st.from_regex(r"\A[A-Za-z0-9_.:-]{1,40}\Z"),
}
ANY = {"member": MEMBERS, "member_email": TEXT, "order_id": TEXT, "amount": AMOUNTS, "occurred_at": MOMENTS,
       "currency": TEXT, "source": TEXT}
ITEMS = st.lists(st.fixed_dictionaries({"sku": st.sampled_from(["A", ""]),
                                        "unit_price": st.sampled_from(["1.50", "x"])}), max_size=2)


@st.composite
def bodies(draw):
    """Mostly well-formed bodies, each field sometimes missing or replaced by anything; now and then items."""
    body = {}
    for key in PurchaseBaseSerializer().fields:  # every field the serializers know, a new one included
        presence = draw(st.integers(0, 9))
        if presence == 0 or (key == "member_email" and presence < 8):
            continue
        body[key] = draw(ANY.get(key, TEXT) if presence == 1 else GOOD.get(key, TEXT))
    if draw(st.integers(0, 4)) == 0:
        body["items"] = draw(ITEMS)
    return body


@settings(max_examples=800, deadline=None)
@given(bodies())
def test_the_batch_shortcut_validates_like_the_full_serializer(body):
    short, full = purchase_input(body), PurchaseInSerializer(data=body)
    assert short.is_valid() == full.is_valid(), (body, short.errors, full.errors)
    assert short.errors == full.errors
    if not short.errors:
        assert dict(short.validated_data) == dict(full.validated_data)


def test_only_the_items_field_is_left_out():
    assert set(PurchaseInSerializer().fields) - set(PurchaseBaseSerializer().fields) == {"items"}
    assert type(purchase_input({"member": 1})) is PurchaseBaseSerializer
    assert type(purchase_input({"member": 1, "items": []})) is PurchaseInSerializer
