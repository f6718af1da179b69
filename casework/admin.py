"""The administration site: the installation's reference data (districts, agencies, people's
roles, the services directory, the protocol settings) is edited here, with history. The protocol's
own records (referrals, cases and what hangs off them) are read-only here: they change only
through the protocol's steps and services, which keep Viewflow's tasks and the history in step.
"""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models as django_models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oauth2_provider import models as oauth2_models
from simple_history.admin import SimpleHistoryAdmin
from viewflow.workflow import admin as viewflow_admin
from viewflow.workflow.models import Process, Task

from . import audit, models, outbox, services
from .audit import log_access
from .models import AccessLog


def _records(obj) -> dict:
    """The referrals, cases and children an admin page about `obj` shows (for the access log)."""
    found = {"referrals": [], "cases": [], "children": []}
    if isinstance(obj, models.Referral):
        found["referrals"].append(obj.pk)
    elif isinstance(obj, models.Case):
        found["cases"].append(obj.pk)
    elif isinstance(obj, models.Child):
        found["children"].append(obj.pk)
    elif isinstance(obj, models.Guardian):
        found["children"].append(obj.child_id)
    elif isinstance(obj, models.InformationRequest):
        found["referrals"].append(obj.referral_id)
    elif isinstance(obj, (models.SubjectAccessRequest, models.RectificationRequest)):
        found["children"].append(obj.child_id)
    elif isinstance(obj, models.Action):
        found["cases"].append(obj.plan.case_id)
    else:  # team members, plans, reviews, notes, attachments
        if getattr(obj, "case_id", None):
            found["cases"].append(obj.case_id)
        if getattr(obj, "referral_id", None):
            found["referrals"].append(obj.referral_id)
    return found


class LoggedReadsAdmin:
    """Every admin page that shows a child's data writes access-log rows, as the casework
    pages do: the change and history pages of one record, and each row of a list or a search."""

    def _log(self, request, action, objects):
        found = {"referrals": [], "cases": [], "children": []}
        for obj in objects:
            for key, ids in _records(obj).items():
                found[key] += ids
        log_access(request, action=action, door=AccessLog.Door.ADMIN, **found)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            action = "admin.search" if request.GET.get("q") else "admin.list"
            self._log(request, action, changelist.result_list)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and response.status_code == 200:
            self._log(request, "admin.view", [obj])
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and response.status_code == 200:
            self._log(request, "admin.history", [obj])
        return response

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdmin(SimpleHistoryAdmin):
    """Admin changes are audited like any other: the actor and a reason code."""

    def save_model(self, request, obj, form, change):
        reason = audit.admin_reason(obj, created=not change)
        services.audited_save(obj, actor=request.user, reason=reason, validate=False)


@admin.register(models.Municipality)
class MunicipalityAdmin(AuditedAdmin):
    """The municipalities and the retention of their records (the data controller's records
    schedule, set with the DPO); their protocol versions are kept by their protocol
    administrators on the product's own pages (/casework/protocol/), never here."""

    list_display = ["name", "code"]
    fieldsets = [
        (None, {"fields": ["code", "name"]}),
        (
            _("Retention of the municipality's records (days)"),
            {
                "fields": [
                    "retention_draft_days",
                    "retention_no_further_action_days",
                    "retention_redirected_days",
                    "retention_closed_case_days",
                    "retention_contact_days",
                ]
            },
        ),
    ]
    search_fields = ["name", "code"]


@admin.register(models.District)
class DistrictAdmin(AuditedAdmin):
    list_display = ["name", "code", "municipality", "on_duty_phone"]
    list_filter = ["municipality"]
    search_fields = ["name", "code"]


@admin.register(models.MailingCategory)
class MailingCategoryAdmin(AuditedAdmin):
    """The mailing list's categories: seed 004's four, and the municipality's own."""

    list_display = ["code", "name", "active"]
    search_fields = ["code", "name"]


@admin.register(models.Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["name", "kind", "district", "requires_referent_validation"]
    list_filter = ["kind", "district"]
    search_fields = ["name"]


class ProtocolRecordAdmin(LoggedReadsAdmin, SimpleHistoryAdmin):
    """Shown, with its history, never changed here (see the module's docstring)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.ProtocolVersion)
class ProtocolVersionAdmin(ProtocolRecordAdmin):
    """Read here; kept by the municipality's protocol administrators on /casework/protocol/."""

    list_display = ["municipality", "number", "title", "valid_from", "valid_until"]
    list_filter = ["municipality"]


@admin.register(models.CaseTransfer)
class CaseTransferAdmin(ProtocolRecordAdmin):
    """Made by the services (casework.services.transfers), whose grants and tasks follow."""

    list_display = ["case", "kind", "status", "from_district", "to_district", "requested_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["case", "from_lead", "to_lead", "requested_by", "decided_by"]


@admin.register(models.HandOver)
class HandOverAdmin(ProtocolRecordAdmin):
    list_display = ["case", "to_school", "transition", "status", "sent_at"]
    list_filter = ["status", "transition"]
    raw_id_fields = ["case", "sent_by", "acknowledged_by"]


@admin.register(models.Membership)
class MembershipAdmin(AuditedAdmin):
    """A role is given and ended through the services, which open and close its scopes. A
    membership's person, agency and role are fixed once made: end it and make another."""

    list_display = ["user", "agency", "role", "active"]
    list_filter = ["role", "active", "agency__district"]
    search_fields = ["user__username", "agency__name"]
    list_select_related = ["user", "agency"]

    fields = ["user", "agency", "role", "active", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["user", "agency", "role"] if obj is not None else []
        return [*fixed, "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            made = services.membership_create(
                actor=request.user, user=obj.user, agency=obj.agency, role=obj.role
            )
            obj.pk = made.pk
            if not obj.active:
                services.membership_deactivate(actor=request.user, membership=made)
            return
        stored = models.Membership.objects.get(pk=obj.pk)
        if stored.active and not obj.active:
            services.membership_deactivate(actor=request.user, membership=stored)
        elif obj.active and not stored.active:
            services.membership_create(
                actor=request.user, user=stored.user, agency=stored.agency, role=stored.role
            )


class GuardianInline(admin.TabularInline):
    model = models.Guardian
    extra = 0


@admin.register(models.Child)
class ChildAdmin(LoggedReadsAdmin, AuditedAdmin):
    list_display = ["last_name", "first_name", "date_of_birth", "district", "school"]
    list_filter = ["district"]
    search_fields = ["last_name", "first_name", "tax_code"]
    inlines = [GuardianInline]


@admin.register(models.Referral)
class ReferralAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "status", "urgency", "district", "school", "submitted_at"]
    list_filter = ["status", "urgency", "district"]
    raw_id_fields = ["child", "referrer", "case", "claimed_by", "decided_by", "contact_person"]
    list_select_related = ["district", "school"]


@admin.register(models.InformationRequest)
class InformationRequestAdmin(ProtocolRecordAdmin):
    list_display = ["referral", "requested_at", "due_at", "answered_at"]
    raw_id_fields = ["referral"]


@admin.register(models.Case)
class CaseAdmin(ProtocolRecordAdmin):
    list_display = ["reference", "status", "risk_level", "district", "lead_worker"]
    list_filter = ["status", "risk_level", "district"]
    search_fields = ["reference"]
    raw_id_fields = ["child", "lead_worker"]


@admin.register(models.CaseTeamMember)
class CaseTeamMemberAdmin(ProtocolRecordAdmin):
    list_display = ["case", "user", "agency", "role", "valid_until", "removed_at"]
    raw_id_fields = ["case", "user"]


@admin.register(models.CasePlan)
class CasePlanAdmin(ProtocolRecordAdmin):
    raw_id_fields = ["case"]


@admin.register(models.Action)
class ActionAdmin(ProtocolRecordAdmin):
    list_display = ["objective", "owning_agency", "owner", "due_date", "status"]
    raw_id_fields = ["plan", "owner"]


@admin.register(models.FamilyInformation)
class FamilyInformationAdmin(ProtocolRecordAdmin):
    list_display = ["case", "informed_on", "channel", "language", "interpreter"]
    raw_id_fields = ["case", "informed_by", "recorded_by"]


@admin.register(models.Consent)
class ConsentAdmin(ProtocolRecordAdmin):
    list_display = ["case", "purpose", "agency", "given_on", "withdrawn_on"]
    list_filter = ["purpose"]
    raw_id_fields = ["case", "recorded_by", "withdrawal_recorded_by"]


@admin.register(models.Objection)
class ObjectionAdmin(ProtocolRecordAdmin):
    list_display = ["case", "raised_on", "outcome", "handled_at"]
    raw_id_fields = ["case", "handled_by", "recorded_by"]


@admin.register(models.Sharing)
class SharingAdmin(ProtocolRecordAdmin):
    list_display = ["case", "agency", "basis", "recorded_at"]
    raw_id_fields = ["case", "member", "consent", "recorded_by"]


@admin.register(models.SubjectAccessRequest)
class SubjectAccessRequestAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "received_on", "recorded_at"]
    raw_id_fields = ["child", "guardian", "recorded_by"]


@admin.register(models.RectificationRequest)
class RectificationRequestAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "field", "status", "received_on", "decided_at"]
    raw_id_fields = ["child", "guardian", "recorded_by", "decided_by"]


@admin.register(models.Review)
class ReviewAdmin(ProtocolRecordAdmin):
    list_display = ["case", "scheduled_for", "held_on", "decision"]
    raw_id_fields = ["case"]


@admin.register(models.Note)
class NoteAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "case", "referral", "author", "created_at"]
    raw_id_fields = ["case", "referral"]


@admin.register(models.Attachment)
class AttachmentAdmin(ProtocolRecordAdmin):
    list_display = ["title", "case", "referral", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["case", "referral"]


@admin.register(models.Consultation)
class ConsultationAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "school", "district", "age_band", "status", "answer_due_at"]
    list_filter = ["status", "district"]


@admin.register(models.ConsultationMessage)
class ConsultationMessageAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "consultation", "side", "written_at"]


@admin.register(models.PatternAlert)
class PatternAlertAdmin(ProtocolRecordAdmin):
    list_display = ["pk", "district", "item_count", "status", "raised_at"]
    list_filter = ["status", "district"]


@admin.register(models.NetworkMeeting)
class NetworkMeetingAdmin(ProtocolRecordAdmin):
    list_display = ["held_on", "title", "district"]
    list_filter = ["district"]


@admin.register(models.MeetingAction)
class MeetingActionAdmin(ProtocolRecordAdmin):
    list_display = ["description", "owner_agency", "due_on", "status"]


@admin.register(models.Service)
class ServiceAdmin(AuditedAdmin):
    list_display = ["name", "entry_type", "kind", "district", "neighbourhood", "active"]
    formfield_overrides = {django_models.URLField: {"assume_scheme": "https"}}
    list_filter = ["entry_type", "kind", "district", "active"]
    search_fields = ["name", "description"]


@admin.register(models.Contact)
class ContactAdmin(AuditedAdmin):
    list_display = ["contacted_at", "channel", "caller", "category", "district", "operator"]
    list_filter = ["channel", "caller", "category", "district", "outside_hours"]


@admin.register(models.Referent)
class ReferentAdmin(AuditedAdmin):
    list_display = ["name", "topic", "agency", "school", "phone", "active"]
    list_filter = ["topic", "active"]
    search_fields = ["name", "agency__name"]


@admin.register(models.HelplineHours)
class HelplineHoursAdmin(AuditedAdmin):
    list_display = ["weekday", "opens_at", "closes_at"]


@admin.register(models.ProtocolSettings)
class ProtocolSettingsAdmin(AuditedAdmin):
    """The installation's own retention (one row); the protocol is each municipality's
    (ProtocolVersion), the retention of its records on the municipality."""

    def has_add_permission(self, request):
        return not models.ProtocolSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Audit and delivery records: administrators may read them, nobody edits them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = [
        "at",
        "user",
        "door",
        "action",
        "object_type",
        "object_id",
        "object_ids",
        "address",
    ]
    list_filter = ["door", "object_type", "action"]
    search_fields = ["user__username", "=object_id"]
    date_hierarchy = "at"
    list_select_related = ["user"]


@admin.register(models.Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "recipient",
        "kind",
        "emailed_at",
        "read_at",
        "attempts",
        "next_attempt_at",
        "gave_up_at",
    ]
    list_filter = ["kind", ("gave_up_at", admin.EmptyFieldListFilter)]
    actions = ["retry_delivery"]

    @admin.action(description=_("Try again to e-mail those the outbox gave up on"))
    def retry_delivery(self, request, queryset):
        count = outbox.retry_given_up(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d notification will be tried again within a minute.",
                "%(count)d notifications will be tried again within a minute.",
                count,
            )
            % {"count": count},
        )

    list_select_related = ["recipient"]


@admin.register(models.Guardian)
class GuardianAdmin(LoggedReadsAdmin, AuditedAdmin):
    list_display = ["name", "relationship", "child"]
    raw_id_fields = ["child"]


# Viewflow's own process and task pages: read-only too (no editing of a task's status, owner
# or data behind the step driver's back).
admin.site.unregister(Process)
admin.site.unregister(Task)

# django-oauth-toolkit's applications and tokens are not edited by hand: an agency system's
# client is created and retired with `manage.py api_client` (its service user, membership and
# scopes together), and a token is never to be read or written in the admin.
for _oauth_model in (
    oauth2_models.get_application_model(),
    oauth2_models.get_access_token_model(),
    oauth2_models.get_refresh_token_model(),
    oauth2_models.get_grant_model(),
    oauth2_models.get_id_token_model(),
    oauth2_models.get_device_grant_model(),
):
    if admin.site.is_registered(_oauth_model):
        admin.site.unregister(_oauth_model)


@admin.register(Process)
class ProcessAdmin(viewflow_admin.ProcessAdmin):
    inlines = []

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(viewflow_admin.TaskAdmin):
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# People: the scopes come only from memberships (above). Groups, permissions and the staff and
# superuser flags are changed by superusers only, so that a staff account allowed to edit
# users cannot grant itself a district's scope.
User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)

PRIVILEGE_FIELDS = ("groups", "user_permissions", "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields


@admin.register(Group)
class GroupAdmin(auth_admin.GroupAdmin):
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(models.Subscriber)
class SubscriberAdmin(ReadOnlyAdmin):
    """Changed only by the person (the public pages) and the helpline (export, erasure)."""

    list_display = ["pk", "kind", "institution_type", "district", "subscribed_on", "erased_at"]
    list_filter = ["kind", "institution_type", "district"]
    exclude = ["token"]


@admin.register(models.SubscriberEvent)
class SubscriberEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "subscriber", "reason", "actor"]


@admin.register(models.Mailing)
class MailingAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Written and sent on the helpline's pages (/casework/mailings/)."""

    list_display = ["subject", "category", "district", "status", "sent_on", "imported"]
    list_filter = ["status", "category", "imported"]


@admin.register(models.MailingDelivery)
class MailingDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["mailing", "subscriber", "status", "attempts", "sent_at"]
    list_filter = ["status"]


@admin.register(models.TrailUnlock)
class TrailUnlockAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "user", "purpose", "object_type", "object_id", "expires_at"]
    list_filter = ["purpose", "object_type"]
    search_fields = ["user__username", "=object_id"]
    date_hierarchy = "opened_at"


@admin.register(models.PurgeRecord)
class PurgeRecordAdmin(ReadOnlyAdmin):
    """The purge register: what the retention purge deleted, when and under which rule."""

    list_display = ["at", "rule", "retention", "kind", "count"]
    list_filter = ["rule"]
    date_hierarchy = "at"


@admin.register(models.ApiClient)
class ApiClientAdmin(ReadOnlyAdmin):
    """Agency systems signing in with OAuth2 client credentials: created and retired with
    `manage.py api_client` (the secret is shown once, then kept only as a hash)."""

    list_display = ["application", "agency", "service_user", "scopes", "active", "created_at"]
    list_filter = ["active", "agency"]


@admin.register(models.RetainedFigure)
class RetainedFigureAdmin(ReadOnlyAdmin):
    """What purged records counted for in the yearly report (counts only)."""

    list_display = ["year", "district", "key", "code", "count"]
    list_filter = ["year", "key"]


@admin.register(models.LegalHold)
class LegalHoldAdmin(ReadOnlyAdmin):
    """Holds are placed and lifted on the Legal holds page (with their history), not here."""

    list_display = ["kind", "object_id", "district", "placed_by", "placed_at", "lifted_at"]
    list_filter = ["kind", "district"]
