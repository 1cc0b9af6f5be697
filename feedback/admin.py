"""Back office for feedback: the admin classes live beside their sub-domain and register themselves on import."""
