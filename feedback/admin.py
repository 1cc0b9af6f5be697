"""Back office for feedback: the admin classes live beside their sub-domain and register themselves on import."""

from feedback import admin_reviews, admin_support, admin_surveys  # noqa: F401
