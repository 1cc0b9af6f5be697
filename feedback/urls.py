"""Portal pages owned by feedback (mounted under the "portal" namespace by config/urls.py)."""

from django.urls import path  # noqa: F401 - the sub-domains below add their pages with path()

urlpatterns: list = []
