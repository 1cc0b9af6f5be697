"""Review endpoints: the public list of a product's approved reviews (with its average rating), and the
logged-in member's own reviews (write one, the one edit)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import Pagination
from feedback.models import Review
from feedback.services import reviews
from members.permissions import IsMember


# ------------------------------------------------------------------------------------------- serializers
class PublicReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "sku", "product_name", "rating", "title", "text", "verified", "reviewer", "created_at",
                  "edited_at"]

    def get_reviewer(self, review) -> str:
        return reviews.review_reviewer_name(review=review)


class MyReviewSerializer(serializers.ModelSerializer):
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "sku", "product_name", "rating", "title", "text", "verified", "status", "rejection_reason",
                  "created_at", "edited_at", "can_edit"]

    def get_can_edit(self, review) -> bool:
        now = self.context.get("now")
        return review.edited_at is None and (now is None or now - review.created_at <= reviews.EDIT_WINDOW)


# Types only; the ranges and lengths are the service's (each refusal has its own code).
class ReviewCreateInSerializer(serializers.Serializer):
    sku = serializers.CharField(trim_whitespace=False, allow_blank=True)
    rating = serializers.IntegerField()
    title = serializers.CharField(trim_whitespace=False, allow_blank=True)
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)
    product_name = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False, default="")
    member = serializers.IntegerField(required=False, help_text="Optional; must be the logged-in member.")


class ReviewEditInSerializer(serializers.Serializer):
    rating = serializers.IntegerField(required=False)
    title = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)
    text = serializers.CharField(trim_whitespace=False, allow_blank=True, required=False)


# ------------------------------------------------------------------------------------------------- views
class ProductReviewPagination(Pagination):
    """The page of reviews, with the product's summary beside it (ProductReviewListApi adds the values)."""

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["properties"].update({
            "sku": {"type": "string"},
            "review_count": {"type": "integer", "description": "Approved reviews of the product."},
            "average_rating": {"type": "string", "format": "decimal", "pattern": r"^\d\.\d{2}$", "nullable": True,
                               "description": "Average of the approved ratings, two decimals; null without any."},
        })
        page["required"] = [*page.get("required", []), "sku", "review_count", "average_rating"]
        return page


class ProductReviewListApi(ListAPIView):
    """Approved reviews of a product, newest first, with the product's average rating and review count."""

    permission_classes = [AllowAny]
    serializer_class = PublicReviewSerializer
    pagination_class = ProductReviewPagination

    def get_queryset(self):
        return reviews.review_list_approved(sku=self.kwargs["sku"])

    @extend_schema(tags=["public"])
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        summary = reviews.review_product_summary(sku=self.kwargs["sku"])
        average = summary["average"]
        response.data["sku"] = self.kwargs["sku"]
        response.data["review_count"] = summary["count"]
        response.data["average_rating"] = (
            str(Decimal(str(average)).quantize(Decimal("0.01"), ROUND_HALF_UP)) if average is not None else None
        )
        return response


class MeReviewListCreateApi(APIView):
    """The logged-in member's reviews (GET) and writing a new one (POST; 409 review_exists for a product
    already reviewed)."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (409,)}  # review_exists

    @extend_schema(responses=MyReviewSerializer(many=True), tags=["me"])
    def get(self, request):
        rows = reviews.review_list_for_member(member=request.member)
        return Response(MyReviewSerializer(rows, many=True, context={"now": timezone.now()}).data)

    @extend_schema(request=ReviewCreateInSerializer, responses={201: MyReviewSerializer}, tags=["me"])
    def post(self, request):
        data = ReviewCreateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        if "member" in body and body["member"] != request.member.pk:
            raise reviews.NotYourMember(field="member")
        review = reviews.review_create(member=request.member, sku=body["sku"], rating=body["rating"],
                                       title=body["title"], text=body["text"], product_name=body["product_name"])
        return Response(MyReviewSerializer(review, context={"now": review.created_at}).data,
                        status=status.HTTP_201_CREATED)


class MeReviewEditApi(APIView):
    """The member's one edit of their review, within 48 hours; it goes back to moderation."""

    permission_classes = [IsMember]
    error_statuses = {"PATCH": (409, 410)}  # review_already_edited; the edit window closed

    @extend_schema(request=ReviewEditInSerializer, responses=MyReviewSerializer, tags=["me"])
    def patch(self, request, review_id: str):
        data = ReviewEditInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = reviews.review_edit(member=request.member, review_id=int(review_id), **data.validated_data)
        return Response(MyReviewSerializer(review, context={"now": review.edited_at}).data)
