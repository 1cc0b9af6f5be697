"""Admin for surveys, reviews and support feedback records."""
