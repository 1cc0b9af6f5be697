"""Two shortcuts in front of the purchase serializer, each pinned to it over bodies drawn from the serializer's own
fields (so a field added to the serializer is drawn here too):

- `purchase_fields_fast` (the single post, kept for the speed target) validates common bodies without DRF's
  machinery: it must accept only what the serializer accepts and return what it returns;
- `purchase_input` (the single post and the batch) validates item-less bodies with `PurchaseBaseSerializer`
  instead of `PurchaseInSerializer` (building the nested items serializer is most of DRF's cost per item): the
  two must give the same verdict, errors and values."""

from datetime import UTC
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.serializers import (
    FAST_FIELDS,
    PurchaseBaseSerializer,
    PurchaseInSerializer,
    purchase_fields_fast,
    purchase_input,
)

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
                     "2026-02-30T10:00:00Z", "yesterday", "2026-03-02T10:00:00.123456-05:30",
                     "9999-12-31T23:59:59-14:00"]),
    st.integers(), st.none(),
)
CURRENCIES = st.one_of(st.sampled_from(["EUR", "eur", "EU", "EURO", " EU", "EU\x00", "€UR"]), TEXT)
SOURCES = st.one_of(st.sampled_from(["pos", "shop.de", "a" * 40, "a" * 41, "po s", " pos", "pos\n"]), TEXT)


GOOD = {
    "member": st.integers(min_value=1, max_value=2**63 - 1),
    "order_id": st.from_regex(r"\A[A-Za-z0-9#/ -]{1,100}\Z").filter(lambda t: t == t.strip()),
    "amount": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2).map(str),
    "occurred_at": st.datetimes(timezones=st.sampled_from([UTC])).map(lambda d: d.isoformat()),
    "currency": st.sampled_from(["EUR", "USD", "eur"]),
    "source": st.from_regex(r"\A[A-Za-z0-9_.:-]{1,40}\Z"),
}
ANY = {"member": MEMBERS, "order_id": TEXT, "amount": AMOUNTS, "occurred_at": MOMENTS, "currency": CURRENCIES,
       "source": SOURCES}


OTHER = st.one_of(TEXT, st.just("a@b.test"), st.lists(st.integers(), max_size=1))
EMAILS = st.sampled_from(["a@b.test", "shop1@example.test"])
ITEMS = st.lists(st.fixed_dictionaries({"sku": st.sampled_from(["A", ""]),
                                        "unit_price": st.sampled_from(["1.50", "x"])}), max_size=2)


@st.composite
def bodies(draw):
    """Mostly well-formed bodies (so the fast path is exercised), over every field the serializers know (a new
    one included), each field sometimes left out or replaced by anything; now and then an unknown key."""
    body = {}
    for key in PurchaseInSerializer().fields:
        presence = draw(st.integers(0, 9))
        if key not in GOOD and presence < 8:
            continue  # member_email, items and fields the fast path does not know: now and then
        if presence == 0 and key in ("currency", "source", "member", "order_id"):
            continue
        body[key] = draw(ANY.get(key, OTHER) if presence == 1 or key not in GOOD else GOOD[key])
    if draw(st.integers(0, 9)) == 0:
        body["note"] = "hello"
    return body


FAST_TAKEN: list[int] = []


@settings(max_examples=1500, deadline=None)
@given(bodies())
def test_fast_path_agrees_with_the_serializer(body):
    fast = purchase_fields_fast(body)
    serializer = PurchaseBaseSerializer(data=body)
    valid = serializer.is_valid()
    if fast is None:
        return  # the serializer decides (and reports the errors)
    FAST_TAKEN.append(1)
    assert valid, (body, serializer.errors)
    assert fast == dict(serializer.validated_data)
    assert fast["occurred_at"].tzinfo == serializer.validated_data["occurred_at"].tzinfo


def test_the_property_test_exercised_the_fast_path():
    """The property test is not vacuous: many of its bodies took the fast path."""
    if not FAST_TAKEN:  # run alone or before it
        test_fast_path_agrees_with_the_serializer()
    assert len(FAST_TAKEN) >= 150, len(FAST_TAKEN)


def test_the_fast_path_knows_every_field_but_the_ones_it_leaves_to_the_serializer():
    """A field added to the serializer must be added to the fast path (or to this list of exceptions)."""
    assert set(PurchaseInSerializer().fields) - FAST_FIELDS == {"member_email", "items"}


def test_the_ordinary_body_takes_the_fast_path():
    body = {"member": 7, "order_id": "A-1", "amount": "12.5", "currency": "EUR",
            "occurred_at": "2026-03-02T10:00:00+01:00", "source": "pos"}
    fast = purchase_fields_fast(body)
    assert fast is not None and str(fast["amount"]) == "12.50"
    serializer = PurchaseBaseSerializer(data=body)
    assert serializer.is_valid()
    assert fast == dict(serializer.validated_data)


def test_unusual_bodies_are_left_to_the_serializer():
    base = {"member": 7, "order_id": "A-1", "amount": "12.50", "occurred_at": "2026-03-02T10:00:00Z"}
    for change in ({"member": "7"}, {"amount": 12.5}, {"occurred_at": "2026-03-02T10:00:00"}, {"items": []},
                   {"member_email": "a@b.test"}, {"order_id": " A-1"}, {"amount": "0.00"}, {"source": "p s"},
                   {"note": "an unknown key"}):
        assert purchase_fields_fast({**base, **change}) is None, change
    assert purchase_fields_fast(["not", "a", "dict"]) is None


@st.composite
def any_bodies(draw):
    """Bodies over every field of the full serializer, each present or not, well-formed or not; items now and
    then (well-formed or not)."""
    body = {}
    for key in PurchaseInSerializer().fields:
        presence = draw(st.integers(0, 9))
        if presence == 0 or (key in ("member_email", "items") and presence < 7):
            continue
        if key == "items":
            body[key] = draw(ITEMS)
        elif key == "member_email":
            body[key] = draw(EMAILS if presence > 1 else OTHER)
        else:
            body[key] = draw(ANY.get(key, OTHER) if presence == 1 or key not in GOOD else GOOD[key])
    return body


@settings(max_examples=800, deadline=None)
@given(any_bodies())
def test_the_item_less_serializer_validates_like_the_full_one(body):
    short, full = purchase_input(body), PurchaseInSerializer(data=body)
    assert short.is_valid() == full.is_valid(), (body, short.errors, full.errors)
    assert short.errors == full.errors
    if not short.errors:
        assert dict(short.validated_data) == dict(full.validated_data)


def test_only_the_items_field_is_left_out():
    assert set(PurchaseInSerializer().fields) - set(PurchaseBaseSerializer().fields) == {"items"}
    assert type(purchase_input({"member": 1})) is PurchaseBaseSerializer
    assert type(purchase_input({"member": 1, "items": []})) is PurchaseInSerializer
