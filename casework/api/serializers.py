from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from casework import selectors, services
from casework.models import (
    Action,
    Agency,
    Attachment,
    Case,
    CaseTeamMember,
    CaseTransfer,
    Child,
    ConcernCategory,
    District,
    HandOver,
    InformationRequest,
    LegalBasis,
    Note,
    Notification,
    Referral,
    Review,
    RiskLevel,
    Service,
    TrailUnlock,
    Urgency,
)

from .inputs import Input, Line, Text

User = get_user_model()


def person(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


class GuardianInput(Input):
    name = Line(max_length=200)
    relationship = Line(max_length=60)
    phone = Line(max_length=40, required=False, default="")
    # Blank allowed: a guardian without an e-mail address reads back as "" and may be sent so.
    email = serializers.EmailField(required=False, default="", allow_blank=True)


class ChildInput(Input):
    first_name = Line(max_length=100)
    last_name = Line(max_length=100)
    date_of_birth = serializers.DateField()
    tax_code = Line(max_length=32, required=False, default="")
    school_class = Line(max_length=40, required=False, default="")
    home_languages = Line(max_length=200, required=False, default="")
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=District.objects.all(),
        required=False,
        help_text=_("The child's district of residence; default: the school's district."),
    )
    guardians = GuardianInput(many=True, required=False, default=list)


class ReferralForm(Input):
    concern_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=ConcernCategory.choices), required=False
    )
    indicators = serializers.ListField(child=Line(max_length=200), required=False)
    observations = Text(required=False, allow_blank=True)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    school_actions = Text(required=False, allow_blank=True)
    family_informed = serializers.BooleanField(required=False, allow_null=True)
    family_response = Text(required=False, allow_blank=True)
    interpreter_needed = serializers.BooleanField(required=False)
    interpreter_language = Line(max_length=60, required=False, allow_blank=True)


class ReferralCreate(ReferralForm):
    child = ChildInput()


class ChildCorrection(Input):
    """The child's data as typed, corrected while the referral is a draft (any subset)."""

    first_name = Line(max_length=100, required=False)
    last_name = Line(max_length=100, required=False)
    date_of_birth = serializers.DateField(required=False)
    tax_code = Line(max_length=32, required=False, allow_blank=True)
    school_class = Line(max_length=40, required=False, allow_blank=True)
    home_languages = Line(max_length=200, required=False, allow_blank=True)
    guardians = GuardianInput(many=True, required=False)


class ReferralPatch(ReferralForm):
    child = ChildCorrection(required=False)


class ChildAsTyped(serializers.Serializer):
    """The child as the referrer typed it: what a referrer is shown, never a record of others."""

    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    tax_code = serializers.CharField()
    school_class = serializers.CharField()
    home_languages = serializers.CharField()
    guardians = GuardianInput(many=True, source="guardians.all")


class EmergencyOut(serializers.Serializer):
    """What the referrer is shown at once for immediate danger (services.emergency_guidance)."""

    emergency_number = serializers.CharField()
    message = serializers.CharField()
    on_duty_phone = serializers.CharField()


class InformationRequestOut(serializers.ModelSerializer):
    class Meta:
        model = InformationRequest
        fields = ["id", "question", "requested_at", "due_at", "answer", "answered_at"]


class ReferralForReferrer(serializers.ModelSerializer):
    """What the school sees: its own form, the status and the outcome — never the case file."""

    status_label = serializers.CharField(source="status_for_referrer")
    child = serializers.SerializerMethodField()
    contact_person = serializers.SerializerMethodField()
    redirected_to = serializers.CharField(
        source="redirected_to.name", default=None, allow_null=True
    )
    information_requests = InformationRequestOut(many=True)
    emergency = serializers.SerializerMethodField()
    closing_message = serializers.CharField(
        help_text=_("Once the case is closed: what the school is told (the protocol's wording)."),
    )

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "status_label",
            "child",
            "concern_categories",
            "indicators",
            "observations",
            "urgency",
            "school_actions",
            "family_informed",
            "family_response",
            "interpreter_needed",
            "interpreter_language",
            "created_at",
            "submitted_at",
            "information_requests",
            "feedback",
            "feedback_sent_at",
            "contact_person",
            "redirected_to",
            "emergency",
            "concluded_at",
            "closing_message",
        ]

    @extend_schema_field(ChildAsTyped)
    def get_child(self, referral) -> dict:
        return ChildAsTyped(referral.child).data

    def get_contact_person(self, referral) -> str | None:
        return person(referral.contact_person)

    @extend_schema_field(EmergencyOut(allow_null=True))
    def get_emergency(self, referral) -> dict | None:
        return services.emergency_guidance(referral)


class ChildName(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class ReferralListItem(serializers.ModelSerializer):
    """A line of the referral list, the same for the school and the social side: what tells
    the referrals apart. The form's long texts, the questions and the triage's fields are in
    the detail (`GET /api/v1/referrals/{id}/`), shown at the reader's level."""

    status_label = serializers.CharField(source="get_status_display")
    child = serializers.SerializerMethodField()
    school = serializers.CharField(source="school.name")

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "status_label",
            "urgency",
            "child",
            "school",
            "created_at",
            "submitted_at",
        ]

    @extend_schema_field(ChildName)
    def get_child(self, referral) -> dict:
        return {"first_name": referral.child.first_name, "last_name": referral.child.last_name}

    @staticmethod
    def rows(referrals) -> list[dict]:
        """The lines as this serializer writes them (`ReferralListItem(page, many=True).data`:
        the same keys, values and formats, asserted by tests/casework/test_page_costs.py),
        built directly: DRF's field by field machinery, and `get_status_display` hashing
        every choice for every line, were half of the list's time."""
        labels = dict(Referral._meta.get_field("status").flatchoices)
        moment = serializers.DateTimeField().to_representation
        return [
            {
                "id": r.pk,
                "status": r.status,
                "status_label": str(labels.get(r.status, r.status)),
                "urgency": r.urgency,
                "child": {"first_name": r.child.first_name, "last_name": r.child.last_name},
                "school": str(r.school.name),
                "created_at": moment(r.created_at) if r.created_at is not None else None,
                "submitted_at": moment(r.submitted_at) if r.submitted_at is not None else None,
            }
            for r in referrals
        ]


class ChildOut(serializers.Serializer):
    id = serializers.IntegerField()
    identity = serializers.ChoiceField(choices=Child.Identity.choices)
    same_as = serializers.IntegerField(source="same_as_id", allow_null=True)
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    age = serializers.IntegerField()
    school_class = serializers.CharField()
    home_languages = serializers.CharField()


class MatchCase(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.CharField()


class MatchReferral(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    school = serializers.CharField(source="school.name")


class ChildMatch(serializers.Serializer):
    """A child the district's team knows who may be the child of the referral (triage only)."""

    child = ChildOut()
    matched = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["tax_code", "first_name", "last_name", "date_of_birth"]
        )
    )
    cases = MatchCase(many=True, source="child.match_cases")
    referrals = MatchReferral(many=True, source="child.match_referrals")


class TrailUnlockInput(Input):
    purpose = serializers.ChoiceField(choices=TrailUnlock.Purpose.choices)
    explanation = Text(help_text=_("Why, in at least 20 characters."))


class TrailUnlockOut(serializers.Serializer):
    purpose = serializers.CharField()
    opened_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class ChildLinkInput(Input):
    child = serializers.IntegerField(help_text=_("The id of one of the possible matches."))


class CaseRef(serializers.Serializer):
    """The case a referral opened: its id (for /api/v1/cases/{id}/) and its reference."""

    id = serializers.IntegerField()
    reference = serializers.CharField()


class ReferralFull(ReferralForReferrer):
    child = ChildOut()
    school = serializers.CharField(source="school.name")
    district = serializers.CharField(source="district.code")
    referrer = serializers.SerializerMethodField()
    claimed_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()

    class Meta(ReferralForReferrer.Meta):
        fields = ReferralForReferrer.Meta.fields + [
            "school",
            "district",
            "referrer",
            "triage_due_at",
            "claimed_by",
            "claimed_at",
            "decision",
            "decision_reason",
            "decided_by",
            "decided_at",
            "escalated_to",
            "case",
        ]

    def get_referrer(self, referral) -> str | None:
        return person(referral.referrer)

    def get_claimed_by(self, referral) -> str | None:
        return person(referral.claimed_by)

    def get_decided_by(self, referral) -> str | None:
        return person(referral.decided_by)

    @extend_schema_field(CaseRef(allow_null=True))
    def get_case(self, referral) -> dict | None:
        if referral.case_id is None:
            return None
        return {"id": referral.case_id, "reference": referral.case.reference}


# One referral as the caller may read it (api.referrals._referral_out): the social side's full
# record, or the school's own form and outcome. The two differ in `child` (a record with its
# id and identity, or the child as typed with the guardians), so exactly one describes an answer.
ReferralView = PolymorphicProxySerializer(
    component_name="ReferralView",
    serializers=[ReferralFull, ReferralForReferrer],
    resource_type_field_name=None,
)


class QueueItem(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    school = serializers.CharField(source="school.name")
    child_age = serializers.IntegerField(source="child.age")
    claimed_by = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    child = serializers.SerializerMethodField()
    concern_labels = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "status",
            "status_label",
            "urgency",
            "submitted_at",
            "triage_due_at",
            "overdue",
            "child",
            "school",
            "child_age",
            "concern_categories",
            "concern_labels",
            "claimed_by",
        ]

    def get_child(self, referral) -> str:
        """The child's full name where the caller's role allows it, initials otherwise (as
        on the queue page: permissions.queue_name_checker)."""
        child = referral.child
        if self.context["shows_name"](referral):
            return str(child)
        return selectors.child_initials(child.first_name, child.last_name)

    def get_concern_labels(self, referral) -> list[str]:
        return referral.concern_labels()

    def get_claimed_by(self, referral) -> str | None:
        return person(referral.claimed_by)

    def get_overdue(self, referral) -> bool:
        now = self.context["now"]
        return referral.triage_due_at is not None and referral.triage_due_at < now


class DecisionInput(Input):
    """A triage decision on `referral` (a keyword argument): the lead worker is one of
    selectors.lead_worker_candidates(referral), as on the decision page."""

    decision = serializers.ChoiceField(choices=Referral.Decision.choices)
    reason = Text(required=False, allow_blank=True, default="")
    feedback = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A message for the referrer; never details of the social file."),
    )
    lead_worker = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices, required=False)
    question = Text(required=False, allow_blank=True)
    service = serializers.PrimaryKeyRelatedField(
        queryset=selectors.services_directory(), required=False
    )
    target = serializers.ChoiceField(choices=Referral.EscalationTarget.choices, required=False)

    def __init__(self, *args, referral: Referral | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if referral is not None:
            self.fields["lead_worker"].queryset = selectors.lead_worker_candidates(referral)

    def validate(self, data):
        missing = {
            name: [_("This field is required for this decision.")]
            for name in services.DECISION_REQUIRED.get(data["decision"], ())
            if not data.get(name)
        }
        if missing:
            raise serializers.ValidationError(missing)
        return data

    def service_arguments(self) -> dict:
        data = self.validated_data
        return services.decision_arguments(data["decision"], data)


class AnswerInput(Input):
    answer = Text()


class TeamMemberOut(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    agency = serializers.CharField(source="agency.name")

    class Meta:
        model = CaseTeamMember
        fields = ["id", "user", "agency", "role", "reason", "valid_until", "added_at"]

    def get_user(self, member) -> str | None:
        return person(member.user)


class ActionOut(serializers.ModelSerializer):
    owning_agency = serializers.CharField(source="owning_agency.name")
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "id",
            "objective",
            "owning_agency",
            "owner",
            "due_date",
            "status",
            "progress_notes",
        ]

    def get_owner(self, action) -> str | None:
        return person(action.owner)


class ReviewOut(serializers.ModelSerializer):
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "kind",
            "reason",
            "scheduled_for",
            "held_on",
            "attendees",
            "progress",
            "risk_level",
            "decision",
            "notes",
            "next_review_at",
            "recorded_by",
        ]

    def get_recorded_by(self, review) -> str | None:
        return person(review.recorded_by)


class CaseListItem(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    lead_worker = serializers.SerializerMethodField()
    child = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id",
            "reference",
            "status",
            "risk_level",
            "district",
            "child",
            "lead_worker",
            "opened_at",
            "next_review_at",
            "closed_at",
        ]

    def get_lead_worker(self, case) -> str | None:
        return person(case.lead_worker)

    def get_child(self, case) -> str:
        return str(case.child)


class CaseDetail(CaseListItem):
    objectives = serializers.CharField(source="plan.objectives")
    team = serializers.SerializerMethodField()
    actions = ActionOut(source="plan.actions", many=True)
    reviews = ReviewOut(many=True)
    referrals = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    review_due = serializers.SerializerMethodField()

    class Meta(CaseListItem.Meta):
        fields = CaseListItem.Meta.fields + [
            "objectives",
            "team",
            "actions",
            "reviews",
            "referrals",
            "review_due",
            "closure_reason",
        ]

    @extend_schema_field(TeamMemberOut(many=True))
    def get_team(self, case) -> list:
        return TeamMemberOut(selectors.case_team(case), many=True).data

    def get_review_due(self, case) -> bool:
        from protocols import steps

        return steps.is_open("case.review", case)


class PlanInput(Input):
    objectives = Text()


class ActionInput(Input):
    objective = Line(max_length=300)
    owning_agency = serializers.PrimaryKeyRelatedField(queryset=selectors.agencies())
    owner = serializers.PrimaryKeyRelatedField(
        queryset=selectors.action_owner_candidates(), required=False, allow_null=True
    )
    due_date = serializers.DateField(required=False, allow_null=True)


class TeamMemberInput(Input):
    user = serializers.PrimaryKeyRelatedField(queryset=selectors.team_candidates())
    agency = serializers.PrimaryKeyRelatedField(queryset=selectors.agencies())
    role = serializers.ChoiceField(choices=CaseTeamMember.CaseRole.choices)
    reason = Text(max_length=300)
    valid_until = serializers.DateField(required=False, allow_null=True)
    legal_basis = serializers.ChoiceField(
        choices=LegalBasis.choices,
        required=False,
        default=LegalBasis.CONSENT,
        help_text=_(
            "For a professional of an agency not yet on the team: the family's consent in force "
            "for that agency (the default), or another legal basis explained in "
            "basis_explanation."
        ),
    )
    basis_explanation = Text(required=False, allow_blank=True, default="")


class ReviewInput(Input):
    """A review: the periodic one when due, or an extraordinary one at any time while the case
    is open (`kind="extraordinary"`, with its `reason`)."""

    kind = serializers.ChoiceField(
        choices=Review.Kind.choices, required=False, default=Review.Kind.PERIODIC
    )
    reason = Text(required=False, allow_blank=True, default="")
    held_on = serializers.DateTimeField(required=False)
    attendees = Text(required=False, allow_blank=True, default="")
    progress = serializers.DictField(child=Text(), required=False, default=dict)
    risk_level = serializers.ChoiceField(choices=RiskLevel.choices)
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    notes = Text(required=False, allow_blank=True, default="")
    next_review_at = serializers.DateTimeField(required=False, allow_null=True)


class BringForwardInput(Input):
    review_on = serializers.DateField(
        help_text=_(
            "The day of the next periodic review: today makes it due at once; it must come "
            "before the day already set."
        )
    )


class CloseInput(Input):
    approve = serializers.BooleanField(required=False, default=True)
    reason = Text(required=False, allow_blank=True, default="")


class ChangeLeadInput(Input):
    """The district supervisor names another lead worker of the district."""

    lead = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))
    grounds = serializers.ChoiceField(choices=CaseTransfer.Grounds.choices)
    reason = Text()


class TransferRequestInput(Input):
    """The lead worker (or the supervisor) asks another district to take the case over."""

    to_district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.all())
    grounds = serializers.ChoiceField(
        choices=CaseTransfer.Grounds.choices, default=CaseTransfer.Grounds.FAMILY_MOVED
    )
    reason = Text()


class TransferDecisionInput(Input):
    """The receiving supervisor accepts (naming the new lead) or refuses (saying why)."""

    accept = serializers.BooleanField()
    lead = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    reason = Text(required=False, allow_blank=True, default="")

    def validate(self, data):
        if data["accept"] and not data.get("lead"):
            raise serializers.ValidationError({"lead": _("Name the new lead worker.")})
        if not data["accept"] and not data.get("reason", "").strip():
            raise serializers.ValidationError(
                {"reason": _("Say why the district does not take the case.")}
            )
        return data


class TransferOut(serializers.ModelSerializer):
    """The transfer record: what both districts keep (no content of the file)."""

    case = serializers.CharField(source="case.reference")
    case_id = serializers.IntegerField(source="case.pk")
    from_district = serializers.CharField(source="from_district.code")
    to_district = serializers.CharField(source="to_district.code")
    from_lead = serializers.SerializerMethodField()
    to_lead = serializers.SerializerMethodField()
    requested_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = CaseTransfer
        fields = [
            "id",
            "case",
            "case_id",
            "kind",
            "status",
            "grounds",
            "reason",
            "from_district",
            "to_district",
            "from_lead",
            "to_lead",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "refusal_reason",
        ]

    def get_from_lead(self, transfer) -> str | None:
        return person(transfer.from_lead)

    def get_to_lead(self, transfer) -> str | None:
        return person(transfer.to_lead)

    def get_requested_by(self, transfer) -> str | None:
        return person(transfer.requested_by)

    def get_decided_by(self, transfer) -> str | None:
        return person(transfer.decided_by)


class HandOverInput(Input):
    """A hand-over note to the receiving school's referent, with the family's consent (who,
    when) or the legal basis for sharing without it."""

    to_school = serializers.PrimaryKeyRelatedField(queryset=selectors.receiving_schools())
    from_school = serializers.PrimaryKeyRelatedField(
        queryset=selectors.receiving_schools(), required=False, allow_null=True
    )
    transition = serializers.ChoiceField(choices=HandOver.Transition.choices)
    note = Text()
    basis = serializers.ChoiceField(choices=HandOver.Basis.choices)
    consent_given_by = Line(required=False, allow_blank=True, default="", max_length=200)
    consent_given_on = serializers.DateField(required=False, allow_null=True, default=None)
    legal_basis = Text(required=False, allow_blank=True, default="")


class HandOverOut(serializers.ModelSerializer):
    """What the case team and the receiving school read of a hand-over: the note, the child's
    name, whom to call — never the file."""

    child = serializers.SerializerMethodField()
    contact_person = serializers.SerializerMethodField()
    to_school = serializers.CharField(source="to_school.name")
    from_school = serializers.CharField(source="from_school.name", default=None)

    class Meta:
        model = HandOver
        fields = [
            "id",
            "child",
            "transition",
            "from_school",
            "to_school",
            "note",
            "basis",
            "consent_given_by",
            "consent_given_on",
            "legal_basis",
            "status",
            "sent_at",
            "acknowledged_at",
            "contact_person",
        ]

    def get_child(self, handover) -> str:
        return str(handover.case.child)

    def get_contact_person(self, handover) -> str | None:
        return person(handover.case.lead_worker)


class ServiceOut(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    agency = serializers.CharField(source="agency.name", default=None, allow_null=True)

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "district",
            "agency",
            "min_age",
            "max_age",
            "address",
            "phone",
            "email",
            "hours",
            "languages",
            "entry_type",
            "recurrence",
            "starts_on",
            "ends_on",
            "neighbourhood",
            "cost",
            "how_to_access",
            "website",
        ]


class HistoryChange(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField(allow_null=True)
    new = serializers.CharField(allow_null=True)


class HistoryRow(serializers.Serializer):
    object = serializers.CharField()
    object_id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    type = serializers.CharField()
    reason = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    changes = HistoryChange(many=True)


class AccessRow(serializers.Serializer):
    at = serializers.DateTimeField()
    user = serializers.CharField(source="user.username")
    door = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_ids = serializers.ListField(
        source="shown",
        child=serializers.IntegerField(),
        help_text=_("The records of this file the read showed (one, or those of a list)."),
    )
    address = serializers.IPAddressField(allow_null=True)


class ActionUpdateInput(Input):
    status = serializers.ChoiceField(choices=Action.Status.choices, required=False)
    progress_note = Text(
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Added to the action's progress notes with today's date."),
    )


class NoteInput(Input):
    body = Text()


class NoteOut(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]

    def get_author(self, note) -> str | None:
        return person(note.author)


@extend_schema_field({"type": "string", "format": "binary"})
class Upload(serializers.FileField):
    """A file sent in a multipart body: the schema says bytes (`binary`), not the URL a
    FileField reads as in an answer, so that a generated client sends a file."""


class AttachmentInput(Input):
    """A multipart upload: the same checks as the page's (type read from the bytes, size)."""

    title = Line(max_length=200)
    file = Upload()


class AttachmentOut(serializers.ModelSerializer):
    uploaded_by = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "title", "content_type", "size", "uploaded_by", "uploaded_at", "download"]

    def get_uploaded_by(self, attachment) -> str | None:
        return person(attachment.uploaded_by)

    def get_download(self, attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/"


FLAG_MESSAGE = _("Use 1 or 0.")


class NotificationOut(serializers.ModelSerializer):
    label = serializers.CharField(source="get_kind_display")
    referral = serializers.IntegerField(source="referral_id", allow_null=True)
    case = serializers.IntegerField(source="case_id", allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "label", "referral", "case", "created_at", "read_at"]


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return person(user)


class AgencyOut(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code", allow_null=True, default=None)

    class Meta:
        model = Agency
        fields = ["id", "name", "kind", "district"]


class CaseCandidates(serializers.Serializer):
    """Whom the caller may name on this case: the ids for the team and action inputs."""

    team = PersonOut(many=True, help_text=_("People who may join the team (`user`)."))
    action_owners = PersonOut(many=True, help_text=_("People who may own an action (`owner`)."))
    agencies = AgencyOut(
        many=True, help_text=_("Agencies a member or an action may belong to (`agency`).")
    )
