"""Offers through the API: the member's own (`/me/offers`, activation), a member's for the shop's systems
(`/members/{id}/offers`, token with members:read; held-out members get an empty list: the holdout is invisible),
and what an offer earned (`/campaigns/{id}/results`, staff who may see offers or a token with metrics:read)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Offer
from campaigns.selectors import member_offers, offer_results
from campaigns.services.offers import offer_activate
from config.exceptions import NotFound
from members.models import Scope
from members.permissions import IsIntegration, IsMember, IsStaffWithPermissionOrIntegration
from members.selectors import member_find


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="offer.pk")
    name = serializers.CharField(source="offer.name")
    description = serializers.CharField(source="offer.description")
    benefit = serializers.CharField(source="offer.benefit", help_text="multiplier or bonus")
    multiplier = serializers.DecimalField(source="offer.multiplier", max_digits=4, decimal_places=2, allow_null=True)
    bonus_points = serializers.IntegerField(source="offer.bonus_points", allow_null=True)
    category = serializers.CharField(source="offer.category", help_text="Only this category qualifies; empty: all.")
    min_amount = serializers.DecimalField(source="offer.min_amount", max_digits=12, decimal_places=2)
    starts_at = serializers.DateTimeField(source="offer.starts_at")
    ends_at = serializers.DateTimeField(source="offer.ends_at")
    needs_activation = serializers.BooleanField()
    activated = serializers.BooleanField()
    counts = serializers.BooleanField(help_text="True when a qualifying purchase now gets the benefit.")
    uses = serializers.IntegerField()
    uses_left = serializers.IntegerField(allow_null=True, help_text="null: no per-member limit")


class MeOffersApi(APIView):
    """The offers made for the logged-in member that run now or are still to come."""

    permission_classes = [IsMember]

    @extend_schema(responses=OfferSerializer(many=True), tags=["me"])
    def get(self, request):
        return Response(OfferSerializer(member_offers(member=request.member), many=True).data)


class MeOfferActivateApi(APIView):
    """Turn on an offer that needs activation. Activating again is harmless."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (404, 409)}  # not the member's offer; ended

    @extend_schema(request=None, responses=OfferSerializer, tags=["me"])
    def post(self, request, offer_id: int):
        offer_activate(member=request.member, offer_id=int(offer_id))
        row = next(r for r in member_offers(member=request.member) if r["offer"].pk == int(offer_id))
        return Response(OfferSerializer(row).data)


class MemberOffersApi(APIView):
    """A member's offers, for the shop's site and e-mails (running and coming up; none for a held-out member)."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}

    @extend_schema(responses=OfferSerializer(many=True), tags=["integration"])
    def get(self, request, member_id: int):
        member = member_find(member_id=int(member_id))
        return Response(OfferSerializer(member_offers(member=member), many=True).data)


class GroupResultSerializer(serializers.Serializer):
    members = serializers.IntegerField()
    purchasers = serializers.IntegerField()
    orders = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Net of returns.")
    revenue_per_member = serializers.DecimalField(max_digits=16, decimal_places=2)
    points_given = serializers.IntegerField()


class OfferResultsSerializer(serializers.Serializer):
    offer = serializers.IntegerField()
    name = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    measured_until = serializers.DateTimeField(help_text="The end plus the follow-up days, or now if earlier.")
    holdout_percent = serializers.IntegerField()
    treatment = GroupResultSerializer()
    holdout = GroupResultSerializer()
    cost = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Points given × the point value.")
    incremental_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True,
                                                   help_text="null without a holdout.")
    incremental_revenue_low = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    incremental_revenue_high = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True)
    roi = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                   help_text="(incremental revenue − cost) / cost; null without either.")
    method = serializers.CharField()


class CampaignResultsApi(APIView):
    """What an offer earned: treatment against its random holdout (docs/campaigns.md, "Results")."""

    permission_classes = [IsStaffWithPermissionOrIntegration]
    token_scopes = {"GET": Scope.METRICS_READ}
    staff_permission = "campaigns.view_offer"
    error_statuses = {"GET": (404,)}  # offer_not_found

    @extend_schema(responses=OfferResultsSerializer, tags=["metrics"])
    def get(self, request, offer_id: int):
        offer = Offer.objects.filter(pk=int(offer_id)).first()
        if offer is None:
            raise NotFound(_("No such offer."), code="offer_not_found")
        return Response(OfferResultsSerializer(offer_results(offer=offer)).data)
