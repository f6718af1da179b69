"""The node for a protocol step that a person does.

Viewflow's own View node lets its pages assign, unassign and execute a task, and it asks
Django's `has_perm` (which says yes to every superuser). Here a task moves only through the
step driver (protocols.steps), which asks the rule the node declares in `.Permission(rule,
obj=...)` of casework.permissions. Viewflow's task pages can still show the task, and its
URL leads to the project's own page, where the work is done.
"""

from viewflow.workflow import flow

from casework import permissions

from . import views


class HumanStep(flow.View):
    def __init__(self, **kwargs):
        super().__init__(views.task_page, **kwargs)

    def rule_object(self, process):
        """The object the node's rule is asked about (the referral, the school, the case…)."""
        return self._owner_permission_obj(process)

    def allows(self, user, *, process) -> bool:
        """May `user` do this step of the process? The node's own rule, nothing else."""
        return permissions.allows(self._owner_permission, user, self.rule_object(process))

    # Viewflow's assign/unassign pages would move the task without the service that keeps the
    # referral or the case in step with it: closed to everyone, administrators included.
    def can_assign(self, user, task) -> bool:
        return False

    def can_unassign(self, user, task) -> bool:
        return False
