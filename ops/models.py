from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """When a periodic task last finished, written by the worker that ran it.

    The row named "beat" is the heartbeat proper (ops.tasks.heartbeat, every
    OPS_HEARTBEAT_SECONDS): it proves that beat sends, the broker carries and a worker runs.
    The others are the sweeps of CELERY_BEAT_SCHEDULE, with how long each took. No case data.
    """

    name = models.CharField(_("task"), max_length=200, primary_key=True)
    at = models.DateTimeField(_("last finished at"))
    duration = models.FloatField(_("duration (seconds)"), null=True, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self):
        return self.name
