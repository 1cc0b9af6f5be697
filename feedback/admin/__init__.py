"""Back office for feedback: the admin classes live beside their sub-domain and register themselves on import."""

from feedback.admin import reviews, support, surveys  # noqa: F401
