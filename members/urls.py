"""Portal pages owned by members (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from members import views

urlpatterns = [
    path("r/<str:code>/", views.referral_landing, name="referral"),
    path("language/", views.language_set, name="language"),
    path("profile/", views.profile, name="profile"),
    path("profile/data/", views.profile_data, name="profile-data"),
    path("profile/delete/", views.profile_delete, name="profile-delete"),
    path("profile/consent/<str:consent_token>/", views.consent_confirm, name="consent-confirm"),
    path("card/", views.card, name="card"),
    path("card/qr.svg", views.card_qr, name="card-qr"),
    path("card/barcode.svg", views.card_barcode, name="card-barcode"),
    path("referrals/", views.referrals, name="referrals"),
]
