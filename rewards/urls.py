"""Portal pages owned by rewards (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from rewards import how_it_works, views

urlpatterns = [
    path("rewards/", views.catalog, name="rewards"),
    path("rewards/<int:reward_id>/", views.reward_detail, name="reward"),
    path("rewards/<int:reward_id>/redeem/", views.redeem, name="redeem"),
    path("vouchers/", views.vouchers, name="vouchers"),
    path("vouchers/<int:voucher_id>/", views.voucher_detail, name="voucher"),
    path("vouchers/<int:voucher_id>/cancel/", views.voucher_cancel_view, name="voucher-cancel"),
    path("how-it-works/", how_it_works.how_it_works, name="how-it-works"),  # public: guests read it too
]
