"""Portal pages owned by members (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from members import views

urlpatterns = [
    path("r/<str:code>/", views.referral_landing, name="referral"),
    path("language/", views.language_set, name="language"),
]
