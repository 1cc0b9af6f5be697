"""Portal pages owned by loyalty (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from loyalty import views

urlpatterns = [
    path("", views.home, name="home"),
    path("points/", views.points_history, name="points"),
]
