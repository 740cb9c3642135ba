"""Sign-in backend: Django's, reading the signed-in user with their role and team.

Every request reads the session's user; the access policy then asks for the user's role (the
personal-data flag, the grants) and the pages for the team. The user comes with both, from the
process's copy of the reference data (``core/reference.py``: reloaded whenever a user, role or
team changes), so a request reads no user from the database.
"""

from __future__ import annotations

import copy

from django.contrib.auth.backends import ModelBackend

from guanxi.core import reference


class Backend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = reference.read_one("users", int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None or not self.user_can_authenticate(user):
            return None
        return copy.copy(user)  # a request may set attributes on it; the copy stays clean
