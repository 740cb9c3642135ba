from django.conf import settings


def navigation(request):
    user = getattr(request, "user", None)
    role = getattr(user, "role", None) if user and user.is_authenticated else None
    return {
        "nav_is_admin": bool(role and role.is_admin),
        "LANGUAGES": settings.LANGUAGES,
    }
