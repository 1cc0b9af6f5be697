"""Members as the shop's systems see them (integration token): find, enrol, one member with points, tier
progress, what expires soon and what the apps above add (MEMBER_FIELDS), and a member's ledger."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty import selectors
from loyalty.models import LedgerEntry
from loyalty.selectors import ledger_entries_describe, ledger_entry_member_description
from members.api import TierSerializer
from members.models import Member, Scope
from members.permissions import IsIntegration
from members.selectors import member_find, member_list
from members.services import member_enrol


@extend_schema_field({
    "oneOf": [{"type": "integer", "description": "points basis: whole points"},
              {"type": "string", "format": "decimal", "pattern": r"^-?\d{0,12}(?:\.\d{0,2})?$",
               "description": "spend basis: an amount"}],
})
class PointsOrAmountField(serializers.DecimalField):
    """Whole points (an integer) on the points basis, an amount (a decimal string) on the spend basis: the
    serializer's to_representation turns the points basis into integers; the schema says both."""


class TierProgressSerializer(serializers.Serializer):
    """Points basis: qualifying/threshold/needed are whole points (integers); spend basis: decimal strings."""

    basis = serializers.ChoiceField(choices=["points", "spend"])
    window_months = serializers.IntegerField()
    qualifying = PointsOrAmountField(max_digits=14, decimal_places=2)
    next_tier = serializers.CharField(allow_null=True)
    threshold = PointsOrAmountField(max_digits=14, decimal_places=2, allow_null=True)
    needed = PointsOrAmountField(max_digits=14, decimal_places=2, allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance["basis"] == "points":
            for key in ("qualifying", "threshold", "needed"):
                if instance.get(key) is not None:
                    data[key] = int(instance[key])
        return data


class ExpiringSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    until = serializers.DateTimeField()
    first_expiry = serializers.DateTimeField(allow_null=True)


class MemberSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member_number = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    tier = TierSerializer(allow_null=True)
    points_balance = serializers.IntegerField()
    pending_points = serializers.IntegerField()
    lifetime_points = serializers.IntegerField()
    referral_code = serializers.CharField()
    created_at = serializers.DateTimeField()


class MemberDetailSerializer(MemberSummarySerializer):
    birthday = serializers.DateField(allow_null=True)
    tier_progress = serializers.SerializerMethodField()
    expiring_soon = serializers.SerializerMethodField()

    @extend_schema_field(TierProgressSerializer)
    def get_tier_progress(self, member) -> dict:
        return TierProgressSerializer(selectors.tier_progress_get(member=member)).data

    @extend_schema_field(ExpiringSerializer)
    def get_expiring_soon(self, member) -> dict:
        return ExpiringSerializer(selectors.points_expiring_get(member_id=member.pk)).data


# Fields the apps above add to a member as integrations see it (backoffice: the RFM and CLV scores it computes),
# the way members.admin.MEMBER_SECTIONS takes their sections: name -> a function making the (read-only) field,
# which reads the member instance (source "*"). Registered from the apps' ready().
MEMBER_FIELDS: dict[str, Callable[[], serializers.Field]] = {}


def member_field_register(name: str, make: Callable[[], serializers.Field]) -> None:
    MEMBER_FIELDS[name] = make


class IntegrationMemberSerializer(MemberDetailSerializer):
    """A member for the shop's systems: the detail plus what the apps above registered (MEMBER_FIELDS)."""

    def get_fields(self):
        fields = super().get_fields()
        for name, make in MEMBER_FIELDS.items():
            fields[name] = make()
        return fields


class MemberCreateSerializer(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    referral_code = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class LedgerEntryListSerializer(serializers.ListSerializer):
    """A page of entries: their sentences read what they need at once (selectors.ledger_entries_describe)."""

    def to_representation(self, data):
        entries = data.all() if hasattr(data, "all") else data  # a manager or a queryset, or the page's list
        return super().to_representation(ledger_entries_describe(entries=entries))


class LedgerEntrySerializer(serializers.ModelSerializer):
    """Members' and integrations' view of an entry: the description is the sentence members read in their
    language (never the arithmetic, never the staff author)."""

    order_id = serializers.CharField(source="purchase.order_id", default=None, allow_null=True)
    description = serializers.SerializerMethodField()

    class Meta:
        model = LedgerEntry
        fields = ["id", "created_at", "kind", "points", "balance_after", "description", "reference", "order_id",
                  "shortfall"]
        list_serializer_class = LedgerEntryListSerializer

    def get_description(self, entry) -> str:
        described = getattr(entry, "member_description", None)
        return described if described is not None else ledger_entry_member_description(entry=entry)


def member_get(member_id: int) -> Member:
    """The member the URL names, with what the member serializers read; unknown: 404 member_not_found."""
    return member_find(member_id=member_id, select_related=("tier",))


class MemberListCreateApi(ListAPIView):
    """Find members (by `email` or `external_id`) or enrol one."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ, "POST": Scope.MEMBERS_WRITE}
    error_statuses = {"POST": (404, 409)}  # an unknown referral code; member_exists
    serializer_class = MemberSummarySerializer

    def get_queryset(self):
        params = self.request.query_params
        return member_list(email=params.get("email") or None,
                           external_id=params.get("external_id") or None).order_by("id")

    @extend_schema(parameters=[OpenApiParameter("email", str), OpenApiParameter("external_id", str)],
                   tags=["integration"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=MemberCreateSerializer, responses={201: IntegrationMemberSerializer}, tags=["integration"])
    def post(self, request):
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        member = member_enrol(email=v["email"], first_name=v["first_name"], last_name=v["last_name"],
                              birthday=v["birth_date"], external_id=v["external_id"] or None,
                              referral_code=v["referral_code"] or None, via="api")
        return Response(IntegrationMemberSerializer(member_get(member.pk)).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}

    @extend_schema(responses=IntegrationMemberSerializer, tags=["integration"])
    def get(self, request, member_id: int):
        return Response(IntegrationMemberSerializer(member_get(member_id)).data)


class MemberLedgerApi(ListAPIView):
    """A member's ledger, newest first."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return selectors.ledger_list(member=member_get(self.kwargs["member_id"])).select_related(
            *selectors.LEDGER_TEXT_RELATED)

    @extend_schema(tags=["integration"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


