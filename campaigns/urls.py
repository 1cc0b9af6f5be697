"""Portal pages owned by campaigns (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from campaigns import views

urlpatterns = [
    path("offers/", views.offers, name="offers"),
    path("offers/<int:offer_id>/activate/", views.activate, name="offer-activate"),
]
