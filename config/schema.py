"""OpenAPI generation (drf-spectacular): each integration operation says which token scope it needs."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class FidelioAutoSchema(AutoSchema):
    def get_description(self) -> str:
        description = super().get_description()
        scopes = getattr(self.view, "token_scopes", None) or {}
        scope = scopes.get(self.method.upper())
        if scope:
            note = (f"Integration tokens need the `{scope}` scope; without it the answer is 403 "
                    f"`insufficient_scope`.")
            description = f"{description}\n\n{note}" if description else note
        return description
