"""Feedback's DRF views and serializers, one module per sub-domain: `reviews`, `surveys` and `support`. The
views are re-exported here."""

from feedback.api.reviews import MeReviewEditApi, MeReviewListCreateApi, ProductReviewListApi
from feedback.api.support import FeedbackCreateApi
from feedback.api.surveys import MeSurveyListApi, MeSurveyResponseApi, SurveyLinkApi

__all__ = [
    "FeedbackCreateApi",
    "MeReviewEditApi",
    "MeReviewListCreateApi",
    "MeSurveyListApi",
    "MeSurveyResponseApi",
    "ProductReviewListApi",
    "SurveyLinkApi",
]
