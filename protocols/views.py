from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from viewflow.utils import viewprop
from viewflow.workflow.flow import FlowAppViewset


def task_page(request, **kwargs):
    """Viewflow's task URL leads to the project's own page for the referral or the case,
    where the work is done through the step driver (never through a bare Viewflow form)."""
    artifact = request.activation.process.artifact
    return redirect(artifact.get_absolute_url())


def refused(request, *args, **kwargs):
    raise PermissionDenied


class ProtocolFlowViewset(FlowAppViewset):
    """Viewflow's pages for a protocol flow: its lists, process pages and charts, without the
    bulk assign/unassign actions (a task moves only through protocols.steps)."""

    @viewprop
    def tasks_assign_view(self):
        return refused

    @viewprop
    def tasks_unassign_view(self):
        return refused
