"""Helpers shared by the services: the audited save and the transition error."""

from django.utils.translation import gettext_lazy as _


class TransitionNotAllowed(Exception):
    """The change is not allowed in the object's current state (HTTP 409)."""

    default_message = _("This change is not allowed in the current state.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


def audited_save(obj, *, actor, reason: str, validate: bool = True) -> None:
    """Validate and save `obj`, writing one history row with the actor and the reason code."""
    if validate:
        obj.full_clean()
    obj._history_user = actor
    obj._change_reason = reason
    obj.save()
