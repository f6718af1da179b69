"""Sign-in sessions with their user's id beside them, so that ending a person's access ends
their sessions with one indexed DELETE (services.user_sessions_end) instead of decoding every
stored session. Django's own extension point for database sessions (AbstractBaseSession); this
module is also the session engine (SESSION_ENGINE = "casework.models.sessions")."""

from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSession(AbstractBaseSession):
    # The signed-in user's id as the session holds it (`_auth_user_id`); none before sign-in.
    # Not a foreign key: a session is never joined, only deleted by it.
    user_id = models.IntegerField(_("user id"), null=True, blank=True, db_index=True)

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        return SessionStore


class SessionStore(DatabaseStore):
    """Django's database sessions, stored in UserSession with the signed-in user's id."""

    @classmethod
    def get_model_class(cls):
        return UserSession

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        user_id = str(data.get("_auth_user_id") or "")
        session.user_id = int(user_id) if user_id.isdigit() else None
        return session
