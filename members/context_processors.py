from django.conf import settings

from members.selectors import member_for_user


def program(request):
    """The program's name for every page, and the viewer's member (None for guests and staff)."""
    user = getattr(request, "user", None)
    return {
        "program_name": settings.FIDELIO_PROGRAM_NAME,
        "current_member": member_for_user(user=user) if user is not None else None,
    }
