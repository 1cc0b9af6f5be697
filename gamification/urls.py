"""Portal pages owned by gamification (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from gamification import views

urlpatterns = [
    path("challenges/", views.challenges, name="challenges"),
    path("challenges/<int:challenge_id>/join/", views.join, name="challenge-join"),
    path("challenges/<int:challenge_id>/leaderboard/", views.board, name="challenge-board"),
    path("leaderboards/", views.leaderboard, name="leaderboards"),
    path("leaderboards/settings/", views.leaderboard_settings, name="leaderboard-settings"),
    path("leaderboards/<str:period>/", views.leaderboard, name="leaderboard"),
]
