from django.contrib import admin
from django.db.transaction import non_atomic_requests
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from backoffice import api as backoffice_api
from backoffice.views import dashboard as backoffice_dashboard
from backoffice.views import healthz, healthz_live, healthz_ready, newsletter_unsubscribe
from campaigns import api as campaigns_api
from campaigns import urls as campaigns_urls
from config.api import api_not_found
from feedback import urls as feedback_urls
from feedback.api import reviews as feedback_api_reviews
from feedback.api import support as feedback_api_support
from feedback.api import surveys as feedback_api_surveys
from gamification import api as gamification_api
from gamification import urls as gamification_urls
from loyalty import api as loyalty_api
from loyalty import urls as loyalty_urls
from members import api as members_api
from members import urls as members_urls
from rewards import api as rewards_api
from rewards import urls as rewards_urls
from rewards.views import reward_image


def api_path(route: str, view, name: str):
    """An API route that answers with or without the trailing slash (no redirect that would drop a body)."""
    return re_path(rf"^{route}/?$", view, name=name)


api_v1 = [
    # customers (session)
    api_path("me", loyalty_api.MeApi.as_view(), "me"),
    api_path("me/ledger", loyalty_api.MeLedgerApi.as_view(), "me-ledger"),
    api_path("me/referral", loyalty_api.MeReferralApi.as_view(), "me-referral"),
    api_path("me/export", members_api.MeExportApi.as_view(), "me-export"),
    api_path("me/erasure", members_api.MeErasureApi.as_view(), "me-erasure"),
    api_path("me/challenges", gamification_api.MeChallengesApi.as_view(), "me-challenges"),
    api_path(r"me/challenges/(?P<challenge_id>[0-9]{1,9})/join", gamification_api.MeChallengeJoinApi.as_view(),
             "me-challenge-join"),
    api_path("me/badges", gamification_api.MeBadgesApi.as_view(), "me-badges"),
    api_path("me/offers", campaigns_api.MeOffersApi.as_view(), "me-offers"),
    api_path(r"me/offers/(?P<offer_id>[0-9]{1,9})/activate", campaigns_api.MeOfferActivateApi.as_view(),
             "me-offer-activate"),
    # Redemptions run their own short transaction (no savepoint inside a request-wide one).
    api_path("me/redemptions", non_atomic_requests(rewards_api.MeRedemptionCreateApi.as_view()), "me-redemptions"),
    api_path("me/vouchers", rewards_api.MeVoucherListApi.as_view(), "me-vouchers"),
    api_path("me/surveys", feedback_api_surveys.MeSurveyListApi.as_view(), "me-surveys"),
    api_path(r"me/surveys/(?P<survey_id>[0-9]{1,9})/responses", feedback_api_surveys.MeSurveyResponseApi.as_view(),
             "me-survey-responses"),
    api_path(r"me/vouchers/(?P<voucher_id>[0-9]{1,18})/cancel", rewards_api.MeVoucherCancelApi.as_view(),
             "me-voucher-cancel"),
    api_path("me/reviews", feedback_api_reviews.MeReviewListCreateApi.as_view(), "me-reviews"),
    api_path(r"me/reviews/(?P<review_id>[0-9]{1,18})", feedback_api_reviews.MeReviewEditApi.as_view(), "me-review"),
    # public (richer for a logged-in member)
    api_path("rewards", rewards_api.RewardListApi.as_view(), "reward-list"),
    api_path(r"products/(?P<sku>[^/]{1,100})/reviews", feedback_api_reviews.ProductReviewListApi.as_view(),
             "product-reviews"),
    # the signed invitation link is the credential
    api_path(r"surveys/responses/(?P<token>[^/]{1,300})", feedback_api_surveys.SurveyLinkApi.as_view(),
             "survey-link"),
    # Leaderboards only read (Redis and one query): no request-wide transaction.
    api_path(r"leaderboards/challenges/(?P<challenge_id>[0-9]{1,9})", gamification_api.ChallengeBoardApi.as_view(),
             "challenge-board"),
    api_path(r"leaderboards/(?P<period>[^/]+)", non_atomic_requests(gamification_api.LeaderboardApi.as_view()),
             "leaderboard"),
    # integrations (token)
    api_path("members", loyalty_api.MemberListCreateApi.as_view(), "member-list"),
    api_path(r"members/(?P<member_id>[0-9]+)", loyalty_api.MemberDetailApi.as_view(), "member-detail"),
    api_path(r"members/(?P<member_id>[0-9]+)/ledger", loyalty_api.MemberLedgerApi.as_view(), "member-ledger"),
    api_path(r"members/(?P<member_id>[0-9]+)/offers", campaigns_api.MemberOffersApi.as_view(), "member-offers"),
    api_path("purchases", loyalty_api.PurchaseCreateApi.as_view(), "purchase-create"),
    api_path("purchases/batch", loyalty_api.PurchaseBatchApi.as_view(), "purchase-batch"),
    api_path(r"purchases/(?P<order_id>[^/]+)/returns", loyalty_api.ReturnCreateApi.as_view(), "return-create"),
    api_path("feedback", feedback_api_support.FeedbackCreateApi.as_view(), "feedback-create"),
    # staff or integrations: metric rollups (docs/metrics.md)
    api_path("metrics/summary", backoffice_api.MetricsSummaryApi.as_view(), "metrics-summary"),
    api_path("metrics/periods", backoffice_api.MetricsPeriodsApi.as_view(), "metrics-periods"),
    api_path(r"campaigns/(?P<offer_id>[0-9]{1,9})/results", campaigns_api.CampaignResultsApi.as_view(),
             "campaign-results"),
    api_path("redemptions", non_atomic_requests(rewards_api.RedemptionCreateApi.as_view()), "redemption-create"),
    api_path(r"vouchers/(?P<code>[^/]+)", rewards_api.VoucherCheckApi.as_view(), "voucher-check"),
    api_path(r"vouchers/(?P<code>[^/]+)/use", rewards_api.VoucherUseApi.as_view(), "voucher-use"),
]

# Customer portal pages, one "portal" namespace across the apps that own them.
portal = [*loyalty_urls.urlpatterns, *gamification_urls.urlpatterns, *members_urls.urlpatterns,
          *rewards_urls.urlpatterns, *feedback_urls.urlpatterns, *campaigns_urls.urlpatterns]

urlpatterns = [
    path("", include((portal, "portal"))),
    path("accounts/", include("allauth.urls")),
    path("admin/dashboard/", include(backoffice_dashboard.urlpatterns)),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # health: live (process answers), ready (database + cache: for load balancers), full (monitoring)
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
    path("healthz/ready", healthz_ready, name="healthz-ready"),
    # the signed link is the credential (no login); POST is also RFC 8058 one-click
    path("newsletters/unsubscribe/<str:token>/", newsletter_unsubscribe, name="newsletter-unsubscribe"),
    re_path(r"^media/rewards/(?P<name>[0-9a-f]{32}\.(?:jpg|jpeg|png|webp))$", reward_image, name="reward-image"),
    # Last: whatever else under /api/ is a JSON 404, DEBUG or not.
    re_path(r"^api/", csrf_exempt(api_not_found), name="api-not-found"),
]

handler400 = "config.api.json_or_html_400"
handler403 = "config.api.json_or_html_403"
handler404 = "config.api.json_or_html_404"
handler500 = "config.api.json_or_html_500"
