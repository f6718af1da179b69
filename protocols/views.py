from django.shortcuts import redirect


def task_page(request, **kwargs):
    """Viewflow's task URL leads to the project's own page for the referral or the case,
    where the work is done through casework.services (never through a bare Viewflow form)."""
    artifact = request.activation.process.artifact
    return redirect(artifact.get_absolute_url())
