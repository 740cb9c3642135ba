"""Sign-in backend: Django's, reading the signed-in user with their role and team.

Every request reads the session's user; the access policy then asks for the user's role (the
personal-data flag, the grants) and the pages for the team. Reading both with the user saves
two queries per request.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from guanxi.core.queries import signed_in_user


class Backend(ModelBackend):
    def get_user(self, user_id):
        user = signed_in_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
