"""Fidelio's URLs plus the baseline views at /bench/minimal/, /bench/conventional/ and /bench/page/ (benchmark
server only)."""

from django.urls import path

from bench.minimal import ConventionalApi, MinimalApi, minimal_page
from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as fidelio_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/minimal/", MinimalApi.as_view(), name="bench-minimal"),
    path("bench/conventional/", ConventionalApi.as_view(), name="bench-conventional"),
    path("bench/page/", minimal_page, name="bench-page"),  # the portal pages' baseline (bench/portal.py)
    *fidelio_urlpatterns,
]
