"""The session engine (SESSION_ENGINE): Django's database sessions, stored in
casework.models.UserSession with the signed-in user's id in a column of its own."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls):
        from casework.models import UserSession

        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        user_id = data.get("_auth_user_id")
        session.user_id = int(user_id) if str(user_id or "").isdigit() else None
        return session
