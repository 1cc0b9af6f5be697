"""Portal pages owned by members (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from members import views

urlpatterns = [
    path("r/<str:code>/", views.referral_landing, name="referral"),
    path("language/", views.language_set, name="language"),
    path("profile/", views.profile, name="profile"),
    path("profile/data/", views.profile_data, name="profile-data"),
    path("profile/delete/", views.profile_delete, name="profile-delete"),
]
