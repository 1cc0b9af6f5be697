from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self):
        from members import schema  # noqa: F401  (registers the OpenAPI auth extension)
