"""Portal pages owned by loyalty (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from loyalty import challenge_views, leaderboard_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("points/", views.points_history, name="points"),
    path("challenges/", challenge_views.challenges, name="challenges"),
    path("challenges/<int:challenge_id>/join/", challenge_views.join, name="challenge-join"),
    path("challenges/<int:challenge_id>/leaderboard/", challenge_views.board, name="challenge-board"),
    path("leaderboards/", leaderboard_views.leaderboard, name="leaderboards"),
    path("leaderboards/settings/", leaderboard_views.leaderboard_settings, name="leaderboard-settings"),
    path("leaderboards/<str:period>/", leaderboard_views.leaderboard, name="leaderboard"),
]
