"""The base of every tracked model, and the append-only read log."""

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

User = settings.AUTH_USER_MODEL


class AuditedQuerySet(models.QuerySet):
    """Tracked models change one object at a time through casework.services, so that every
    change leaves a history row with its actor and reason. A bulk UPDATE would leave none."""

    def update(self, **kwargs):
        raise TypeError(
            f"{self.model.__name__} keeps an audit history: change it through "
            "casework.services (QuerySet.update() would bypass the history)."
        )

    update.queryset_only = True


class AuditedModel(models.Model):
    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True


class AppendOnlyError(Exception):
    """The audit tables are written once and never changed or deleted."""


class AccessLogQuerySet(models.QuerySet):
    def showing(self, kind: str, ids) -> "AccessLogQuerySet":
        """The reads that showed any of these records (of one kind): a record opened (its
        `object_id`) or a list it was a line of (`object_ids`). Indexed both ways: the
        (type, id, time) index, and on PostgreSQL a GIN index on the lists' ids."""
        ids = sorted({int(pk) for pk in ids})
        if not ids:
            return self.none()
        opened = Q(object_type=kind, object_id__in=ids)
        if connections[self.db].vendor == "postgresql":
            listed = Q()
            for pk in ids:
                listed |= Q(object_ids__contains=[pk])
            return self.filter(opened | (Q(object_type=kind) & listed))
        # SQLite (the embedded mode): the lists' ids read with json_each.
        marks = ", ".join(["%s"] * len(ids))
        table = self.model._meta.db_table
        listed = Q(
            pk__in=RawSQL(  # noqa: S611 - the ids are ints, the kind a parameter
                f'SELECT l.id FROM "{table}" l, json_each(l.object_ids) j '  # noqa: S608
                f"WHERE l.object_type = %s AND j.value IN ({marks})",
                [kind, *ids],
            )
        )
        return self.filter(opened | listed)


class AccessLog(models.Model):
    """The read log: who saw which referral or case, when, from where and through which door.

    A record opened is one row (`object_id`); a list page is one row per kind of record it
    shows, with their ids in `object_ids`, so that the log grows with the requests people
    make, not with the lines of the lists. "Who has looked at this file" stays one indexed
    query (`AccessLog.objects.showing(kind, ids)`). Ids only: the log holds no personal data.
    """

    class Door(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        DOWNLOAD = "download", _("Download")
        EXPORT = "export", _("Export")
        ADMIN = "admin", _("Administration site")

    class Kind(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        CASE = "case", _("Case")
        CHILD = "child", _("Child")

    at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        User, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+"
    )
    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    action = models.CharField(_("what"), max_length=40)
    object_type = models.CharField(_("record type"), max_length=10, choices=Kind.choices)
    object_id = models.PositiveIntegerField(_("record"), null=True, blank=True)
    # The records a list showed, when it showed more than one (then object_id is empty).
    object_ids = models.JSONField(_("records listed"), default=list, blank=True)
    address = models.GenericIPAddressField(_("from"), null=True, blank=True)
    path = models.CharField(_("page visited"), max_length=200, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("the access log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the access log is append-only")


class TrailUnlock(models.Model):
    """Break-glass: an auditor's stated purpose for reading the values of one trail (a referral's
    or a case's history), open for a short while. Written once; each one is also in the read
    log and told to the district's supervisors."""

    class Purpose(models.TextChoices):
        COMPLAINT = "complaint", _("A complaint or an appeal")
        DATA_SUBJECT = "data_subject", _("A request of the person the data is about")
        AUTHORITY = "authority", _("A request of a court or a supervisory authority")
        INCIDENT = "incident", _("A security or data-protection incident")
        QUALITY = "quality", _("A quality review of the service")

    user = models.ForeignKey(
        User, verbose_name=_("who"), on_delete=models.PROTECT, related_name="+"
    )
    object_type = models.CharField(_("record type"), max_length=10, choices=AccessLog.Kind.choices)
    object_id = models.PositiveIntegerField(_("record"))
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    explanation = models.TextField(_("explanation"))
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))

    class Meta:
        verbose_name = _("trail opened with a purpose")
        verbose_name_plural = _("trails opened with a purpose")
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["user", "object_type", "object_id", "expires_at"])]

    def __str__(self):
        return f"{self.opened_at:%Y-%m-%d %H:%M} {self.user_id} {self.object_type} {self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("trail unlocks are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("trail unlocks are append-only")
