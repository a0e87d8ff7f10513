"""The log-in backend: Django's, reading the user's profile with the user.

Every page asks for the user's role (`measures.access.role_of`), which lives on the profile;
reading both in the one query the session lookup makes anyway saves a query per request.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ModelBackendWithProfile(ModelBackend):
    def get_user(self, user_id):
        model = get_user_model()
        try:
            user = model._default_manager.select_related("profile").get(pk=user_id)
        except model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
