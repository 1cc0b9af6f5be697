"""Portal pages owned by feedback (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path

from feedback.views import reviews as views_reviews
from feedback.views import support as views_support
from feedback.views import surveys as views_surveys

urlpatterns: list = [
    path("feedback/", views_support.my_feedback, name="feedback"),
    path("reviews/", views_reviews.my_reviews, name="reviews"),
    path("reviews/write/", views_reviews.review_write, name="review-write"),
    path("reviews/<int:review_id>/edit/", views_reviews.review_edit_view, name="review-edit"),
    path("surveys/", views_surveys.survey_list, name="surveys"),
    path("surveys/<int:survey_id>/", views_surveys.survey_open_answer, name="survey-open"),
    path("surveys/answer/<str:token>/", views_surveys.survey_link_answer, name="survey-answer"),
]
