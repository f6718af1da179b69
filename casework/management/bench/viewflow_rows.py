"""The Viewflow rows a real submission writes, for the benchmark's synthetic referrals.

`referral.submit` (protocols/steps.py, through ReferralFlow.start) writes one process (its
artifact the referral) and three tasks: the start (DONE), the "does the school validate?"
gateway (DONE, after the start) and the triage step (NEW, after the gateway, owned by the
district's triage permission). A claim assigns the triage task to the worker who claimed.
The benchmark writes the same rows in bulk for the referrals waiting for triage, so that
Viewflow's own queue lists the same tasks as the project's queue (asserted in
tests/casework/test_benchmark_viewflow.py against what a real submission writes).
"""

from django.contrib.contenttypes.models import ContentType
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.token import Token

from casework import permissions
from casework.models import District, Referral
from protocols.flows import ReferralFlow

WAITING = (Referral.Status.SUBMITTED, Referral.Status.IN_TRIAGE)


def write_referral_processes(referrals, *, batch_size=5000) -> int:
    """Bulk-create the process and the three tasks of each waiting referral. Returns how many
    processes were written."""
    referrals = [r for r in referrals if r.status in WAITING]
    if not referrals:
        return 0
    referral_type = ContentType.objects.get_for_model(Referral)
    district_type = ContentType.objects.get_for_model(District)
    processes = Process.objects.bulk_create(
        [
            Process(
                flow_class=ReferralFlow,
                status=STATUS.NEW,
                created=r.submitted_at,
                artifact_content_type=referral_type,
                artifact_object_id=r.pk,
            )
            for r in referrals
        ],
        batch_size=batch_size,
    )
    common = {"token": Token("start"), "data": {}}
    starts, gateways, triages = [], [], []
    for process, r in zip(processes, referrals, strict=True):
        at = r.submitted_at
        starts.append(
            Task(
                process=process,
                flow_task=ReferralFlow.start,
                flow_task_type="START",
                status=STATUS.DONE,
                created=at,
                started=at,
                finished=at,
                **common,
            )
        )
        gateways.append(
            Task(
                process=process,
                flow_task=ReferralFlow.needs_validation,
                flow_task_type="EXCLUSIVE_GATEWAY",
                status=STATUS.DONE,
                created=at,
                finished=at,
                **common,
            )
        )
        claimed = r.status == Referral.Status.IN_TRIAGE and r.claimed_by_id is not None
        triages.append(
            Task(
                process=process,
                flow_task=ReferralFlow.triage,
                flow_task_type="HUMAN",
                status=STATUS.ASSIGNED if claimed else STATUS.NEW,
                created=at,
                assigned=at if claimed else None,
                owner_id=r.claimed_by_id if claimed else None,
                owner_permission=permissions.TRIAGE,
                owner_permission_content_type=district_type,
                owner_permission_obj_pk=str(r.district_id),
                **common,
            )
        )
    for tasks in (starts, gateways, triages):
        Task.objects.bulk_create(tasks, batch_size=batch_size)
    previous = Task.previous.through
    previous.objects.bulk_create(
        [
            previous(from_task_id=later.pk, to_task_id=earlier.pk)
            for earlier, later in (
                *zip(starts, gateways, strict=True),
                *zip(gateways, triages, strict=True),
            )
        ],
        batch_size=batch_size,
    )
    return len(processes)
