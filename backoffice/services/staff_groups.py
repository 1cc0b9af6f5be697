"""Back-office write operations: staff groups."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from backoffice.roles import GROUP_PERMISSIONS


@transaction.atomic
def staff_groups_sync() -> dict[str, int]:
    """Give each staff group exactly the permissions in backoffice.roles (missing ones are skipped)."""
    result = {}
    for group_name, perm_names in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
        result[group_name] = len(perms)
    return result
