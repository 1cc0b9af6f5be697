"""Feedback's portal pages, one module per sub-domain: `reviews`, `surveys` and `support` ("My feedback"). The
views are re-exported here."""

from feedback.views.reviews import my_reviews, review_edit_view, review_write
from feedback.views.support import my_feedback
from feedback.views.surveys import survey_link_answer, survey_list, survey_open_answer

__all__ = [
    "my_feedback",
    "my_reviews",
    "review_edit_view",
    "review_write",
    "survey_link_answer",
    "survey_list",
    "survey_open_answer",
]
