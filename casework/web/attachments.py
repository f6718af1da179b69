"""Documents attached to a referral (while it is a draft) or to a case: upload and download."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import forms, selectors, services
from casework.audit import log_access
from casework.models import Attachment, Referral

from .common import apply, visible_case, visible_referral


def _attach(request, form, **target) -> None:
    if form.is_valid():
        _result, ok = apply(
            request,
            form,
            lambda: services.attachment_add(
                actor=request.user,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                **target,
            ),
        )
        if ok:
            messages.success(request, _("Document attached."))
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))


@require_POST
def referral_attachment_upload(request, pk):
    referral = visible_referral(request, pk)
    _attach(request, forms.AttachmentForm(request.POST, request.FILES), referral=referral)
    if referral.status == Referral.Status.DRAFT:
        return redirect("casework:referral_edit", pk=referral.pk)
    return redirect(referral)


@require_POST
def case_attachment_upload(request, pk):
    case = visible_case(request, pk)
    _attach(request, forms.AttachmentForm(request.POST, request.FILES), case=case)
    return redirect(case)


def attachment_download(request, pk):
    """Served only to those who may see the case or the referral it belongs to; logged."""
    attachment = get_object_or_404(Attachment, pk=pk)
    if attachment.case_id:
        visible = selectors.cases_visible_to(request.user).filter(pk=attachment.case_id)
        logged = {"cases": [attachment.case_id]}
    else:
        visible = selectors.referrals_visible_to(request.user).filter(pk=attachment.referral_id)
        logged = {"referrals": [attachment.referral_id]}
    if not visible.exists():
        raise Http404
    log_access(request, action="attachment.download", door="download", **logged)
    extension = services.ALLOWED_ATTACHMENT_TYPES.get(attachment.content_type, "")
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=f"{slugify(attachment.title) or 'document'}{extension}",
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "no-store"
    return response
