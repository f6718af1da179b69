"""Helpers shared by the services: the audited save, the transition error, and the guard that
keeps the protocol's steps behind their one driver (protocols.steps)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from contextvars import ContextVar

from django.utils.translation import gettext_lazy as _

from ..audit import reason_for


class TransitionNotAllowed(Exception):
    """The change is not allowed in the object's current state (HTTP 409)."""

    default_message = _("This change is not allowed in the current state.")

    def __init__(self, message=None):
        super().__init__(str(message or self.default_message))


class OutsideProtocolStep(RuntimeError):
    """A service that moves a referral or a case along the protocol was called directly.

    Where a referral or a case stands is the flow's business: calling such a service on its
    own would change the record and leave Viewflow's task behind (a referral in the queue with
    no triage task, a claimed referral whose task nobody owns). Call
    ``protocols.steps.run_step`` instead. A programming error, never a user's: HTTP 500.
    """


# The step the driver is running in this context (thread or task), or None.
_current_step: ContextVar[str | None] = ContextVar("casework_protocol_step", default=None)


@contextlib.contextmanager
def protocol_step(name: str) -> Iterator[None]:
    """Mark the code inside as running the protocol step `name`. Only the step driver
    (protocols.steps) enters it; services never import the flows."""
    token = _current_step.set(name)
    try:
        yield
    finally:
        _current_step.reset(token)


def current_step() -> str | None:
    return _current_step.get()


def flow_owned(service):
    """The service is the work of a protocol step: it refuses to run outside the driver,
    before it reads or writes anything."""

    @functools.wraps(service)
    def guarded(*args, **kwargs):
        if _current_step.get() is None:
            raise OutsideProtocolStep(
                f"{service.__module__}.{service.__name__} is a protocol step: "
                "run it through protocols.steps.run_step()"
            )
        return service(*args, **kwargs)

    guarded.flow_owned = True
    return guarded


def audit_as(obj, *, actor, reason: str) -> None:
    """Stamp the history row(s) the next write of `obj` makes (a save, or a many-to-many
    change) with the actor and the reason. The reason must be registered for obj's model in
    casework.audit: anything else is a programming error (ValueError)."""
    reason_for(reason, obj)
    obj._history_user = actor
    obj._change_reason = reason


def audited_save(obj, *, actor, reason: str, validate: bool = True) -> None:
    """Validate and save `obj`, writing one history row with the actor and the reason code."""
    audit_as(obj, actor=actor, reason=reason)
    if validate:
        obj.full_clean()
    obj.save()
