"""Proxy processes only: the domain facts live in casework's models."""

from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process


class ReferralProcess(Process):
    class Meta:
        proxy = True
        verbose_name = _("referral process")
        verbose_name_plural = _("referral processes")


class CaseProcess(Process):
    class Meta:
        proxy = True
        verbose_name = _("case process")
        verbose_name_plural = _("case processes")
