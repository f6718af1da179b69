"""Forms of the web pages. They validate input; the changes themselves are made by services.
Whom a field may name comes from casework.selectors, as for the API's inputs."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import permissions, selectors, services
from .indicators import INDICATORS, urgency_guidance
from .models import (
    RECTIFIABLE,
    Action,
    CaseTeamMember,
    CaseTransfer,
    Child,
    ConcernCategory,
    ConsentPurpose,
    Contact,
    FamilyInformation,
    Guardian,
    HandOver,
    HowObtained,
    LegalBasis,
    Objection,
    ProtocolVersion,
    Referent,
    Referral,
    Review,
    RiskLevel,
    Service,
    Subscriber,
    TrailUnlock,
    Urgency,
)

User = get_user_model()
DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

# No answer-like default: "— choose —" is no answer. A draft may leave it so; a send may not.
FAMILY_INFORMED = [("", _("— choose —")), ("yes", _("Yes")), ("no", _("No"))]


class ChildForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DATE)
    tax_code = forms.CharField(label=_("Tax code (optional)"), max_length=32, required=False)
    school_class = forms.CharField(label=_("Class"), max_length=40, required=False)
    home_languages = forms.CharField(
        label=_("Languages spoken at home"), max_length=200, required=False
    )
    guardian_name = forms.CharField(label=_("Parent or guardian"), max_length=200, required=False)
    guardian_relationship = forms.CharField(label=_("Relationship"), max_length=60, required=False)
    guardian_phone = forms.CharField(label=_("Phone"), max_length=40, required=False)

    @staticmethod
    def initial_from(child) -> dict:
        """The child's record as typed, for the draft's form (its first guardian)."""
        first = child.guardians.order_by("pk").first()
        return {
            "first_name": child.first_name,
            "last_name": child.last_name,
            "date_of_birth": child.date_of_birth,
            "tax_code": child.tax_code,
            "school_class": child.school_class,
            "home_languages": child.home_languages,
            "guardian_name": first.name if first else "",
            "guardian_relationship": first.relationship if first else "",
            "guardian_phone": first.phone if first else "",
        }

    def child_data(self) -> dict:
        data = self.cleaned_data
        guardians = []
        if data["guardian_name"]:
            guardians.append(
                {
                    "name": data["guardian_name"],
                    "relationship": data["guardian_relationship"] or "—",
                    "phone": data["guardian_phone"],
                }
            )
        return {
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "date_of_birth": data["date_of_birth"],
            "tax_code": data["tax_code"],
            "school_class": data["school_class"],
            "home_languages": data["home_languages"],
            "guardians": guardians,
        }


class ReferralForm(forms.Form):
    """The referral form. Saving a draft accepts it incomplete; sending (`sending=True`) also
    asks what the protocol needs before the referral leaves the school — the service's own
    rule — so that every missing answer shows at once, before anything is saved."""

    concern_categories = forms.MultipleChoiceField(
        label=_("Areas of concern"),
        choices=ConcernCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    indicator_codes = forms.MultipleChoiceField(
        label=_("What you observed"),
        choices=[(code, label) for items in INDICATORS.values() for code, label in items],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    other_indicators = forms.CharField(
        label=_("Other observed signs (one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    observations = forms.CharField(
        label=_("Observations"),
        help_text=_("Facts, dates and the child's own words, as they were said."),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        widget=forms.RadioSelect,
        initial=Urgency.ROUTINE,
    )
    school_actions = forms.CharField(
        label=_("What the school has already done"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    family_informed = forms.ChoiceField(
        label=_("Was the family informed?"), choices=FAMILY_INFORMED, required=False
    )
    family_response = forms.CharField(
        label=_("The family's response"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    interpreter_needed = forms.BooleanField(label=_("An interpreter is needed"), required=False)
    interpreter_language = forms.CharField(
        label=_("Language of the interpreter"), max_length=60, required=False
    )

    def __init__(self, *args, sending: bool = False, protocol=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sending = sending
        protocol = protocol or selectors.protocol_for(None)
        self.urgency_guidance = urgency_guidance(protocol=protocol)
        # The municipality's protocol may offer fewer categories and signs (selectors).
        chosen = selectors.protocol_categories(protocol)
        if chosen is not None:
            categories, signs = chosen
            self.fields["concern_categories"].choices = categories
            self.fields["indicator_codes"].choices = signs

    def clean(self):
        data = super().clean()
        if data.get("interpreter_needed") and not data.get("interpreter_language"):
            self.add_error(
                "interpreter_language", _("Say which language the interpreter must speak.")
            )
        if self.sending:
            fields = {
                "concern_categories": data.get("concern_categories"),
                "observations": data.get("observations", ""),
                "family_informed": {"yes": True, "no": False}.get(data.get("family_informed")),
            }
            for name, message in services.referral_send_errors(**fields).items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data

    @classmethod
    def initial_from(cls, referral: Referral) -> dict:
        known = {code for items in INDICATORS.values() for code, _label in items}
        family = {True: "yes", False: "no", None: ""}[referral.family_informed]
        return {
            "concern_categories": referral.concern_categories,
            "indicator_codes": [i for i in referral.indicators if i in known],
            "other_indicators": "\n".join(i for i in referral.indicators if i not in known),
            "observations": referral.observations,
            "urgency": referral.urgency,
            "school_actions": referral.school_actions,
            "family_informed": family,
            "family_response": referral.family_response,
            "interpreter_needed": referral.interpreter_needed,
            "interpreter_language": referral.interpreter_language,
        }

    def referral_fields(self) -> dict:
        data = self.cleaned_data
        others = [line.strip() for line in data["other_indicators"].splitlines() if line.strip()]
        return {
            "concern_categories": data["concern_categories"],
            "indicators": data["indicator_codes"] + others,
            "observations": data["observations"],
            "urgency": data["urgency"],
            "school_actions": data["school_actions"],
            "family_informed": {"yes": True, "no": False}.get(data["family_informed"]),
            "family_response": data["family_response"],
            "interpreter_needed": data["interpreter_needed"],
            "interpreter_language": data["interpreter_language"],
        }


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 4}))


class TrailUnlockForm(forms.Form):
    """Break-glass: why the auditor needs to read the values of this trail."""

    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=[("", _("— choose —")), *TrailUnlock.Purpose.choices],
    )
    explanation = forms.CharField(
        label=_("Explanation (for example the file number of the request)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Referral.Decision.choices, widget=forms.RadioSelect
    )
    risk_level = forms.ChoiceField(
        label=_("Risk level (for a new case)"),
        choices=RiskLevel.choices,
        required=False,
        initial=RiskLevel.MEDIUM,
    )
    lead_worker = forms.ModelChoiceField(
        label=_("Lead worker (for a new case)"), queryset=User.objects.none(), required=False
    )
    question = forms.CharField(
        label=_("Question for the referrer"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    service = forms.ModelChoiceField(
        label=_("Service of the directory"), queryset=Service.objects.none(), required=False
    )
    target = forms.ChoiceField(
        label=_("Escalate to"),
        choices=[("", "—"), *Referral.EscalationTarget.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Reason (kept in the file)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    feedback = forms.CharField(
        label=_("Message to the referrer"),
        help_text=_("The school sees this. Never write details of the social file here."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, referral: Referral, open_case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_worker"].queryset = selectors.lead_worker_candidates(referral)
        self.fields["service"].queryset = selectors.services_directory()
        # The child's open case, if any: "open a case" then links to it and takes its lead.
        self.open_case = open_case

    @classmethod
    def typed_values(cls, data) -> dict:
        """What was typed in a posted form, as initial values: the form comes back as it
        was, without checking it (the services panel's filter posts it, not a decision)."""
        return {name: data.get(name) for name in cls.base_fields if data.get(name) is not None}

    def clean(self):
        data = super().clean()
        for name in services.DECISION_REQUIRED.get(data.get("decision"), ()):
            if not data.get(name):
                self.add_error(name, _("This field is required for this decision."))
        opens_new_case = (
            data.get("decision") == Referral.Decision.OPEN_CASE and self.open_case is None
        )
        if opens_new_case and not data.get("lead_worker") and "lead_worker" not in self.errors:
            self.add_error("lead_worker", _("Choose who leads the new case."))
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return services.decision_arguments(data["decision"], data)


class PlanForm(forms.Form):
    objectives = forms.CharField(
        label=_("Objectives of the plan"), widget=forms.Textarea(attrs={"rows": 4})
    )


class PersonChoiceField(forms.ModelChoiceField):
    """People by full name (the username only where no name is recorded)."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class ActionForm(forms.Form):
    objective = forms.CharField(label=_("Action"), max_length=300)
    owning_agency = forms.ModelChoiceField(label=_("Agency"), queryset=selectors.agencies())
    owner = PersonChoiceField(
        label=_("Person responsible"),
        queryset=selectors.action_owner_candidates(),
        required=False,
    )
    due_date = forms.DateField(label=_("Due date"), widget=DATE, required=False)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            # People of the case's district and of its team (the service checks that the
            # owner works for the owning agency).
            self.fields["owner"].queryset = selectors.action_owner_candidates(case)


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Action.Status.choices)
    progress_note = forms.CharField(label=_("Progress note"), required=False)


class TeamMemberForm(forms.Form):
    user = PersonChoiceField(label=_("Professional"), queryset=selectors.team_candidates())
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=selectors.agencies())
    role = forms.ChoiceField(label=_("Role on the case"), choices=CaseTeamMember.CaseRole.choices)
    reason = forms.CharField(label=_("Reason for access"), max_length=300)
    valid_until = forms.DateField(label=_("Access ends on"), widget=DATE, required=False)
    legal_basis = forms.ChoiceField(
        label=_("Sharing with an agency not yet on the team rests on"),
        choices=LegalBasis.choices,
        initial=LegalBasis.CONSENT,
        required=False,
        help_text=_(
            "The family's consent for that agency (record it first), or another legal basis "
            "that you explain."
        ),
    )
    basis_explanation = forms.CharField(
        label=_("Why without the family's consent"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, case=None, any_district=False, **kwargs):
        super().__init__(*args, **kwargs)
        if case is not None:
            # The case's district; other districts only for the district supervisor.
            self.fields["user"].queryset = selectors.team_candidates(
                case, any_district=any_district
            )
            if not any_district:
                self.fields["agency"].queryset = selectors.agencies(case.district_id)


class ReviewForm(forms.Form):
    held_on = forms.DateTimeField(label=_("Held on"), widget=DATETIME, required=False)
    attendees = forms.CharField(
        label=_("Attendees (names and agencies, family included)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    risk_level = forms.ChoiceField(label=_("Risk now"), choices=RiskLevel.choices)
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Review.Decision.choices, widget=forms.RadioSelect
    )
    notes = forms.CharField(
        label=_("Notes"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    next_review_at = forms.DateTimeField(
        label=_("Next review (default: by risk level)"), widget=DATETIME, required=False
    )

    def __init__(self, *args, actions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.actions = list(actions)
        for action in self.actions:
            self.fields[f"progress_{action.pk}"] = forms.CharField(
                label=_("Progress: %(action)s") % {"action": action.objective},
                required=False,
            )

    def review_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "held_on": data["held_on"],
            "attendees": data["attendees"],
            "risk_level": data["risk_level"],
            "decision": data["decision"],
            "notes": data["notes"],
            "next_review_at": data["next_review_at"],
            "progress": {
                str(a.pk): data[f"progress_{a.pk}"]
                for a in self.actions
                if data.get(f"progress_{a.pk}")
            },
        }


class ExtraordinaryReviewForm(ReviewForm):
    """A review the team holds between two periodic ones: why first, then as a review."""

    reason = forms.CharField(
        label=_("What happened: why the team meets now"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_review_at = forms.DateTimeField(
        label=_("Next periodic review (default: the one already set)"),
        widget=DATETIME,
        required=False,
    )
    field_order = ["reason"]

    def review_fields(self) -> dict:
        return {**super().review_fields(), "reason": self.cleaned_data["reason"]}


class BringForwardForm(forms.Form):
    review_on = forms.DateField(
        label=_("Hold the next periodic review on"),
        help_text=_("Today makes it due at once."),
        widget=DATE,
    )


class ChangeLeadForm(forms.Form):
    lead = PersonChoiceField(label=_("New lead worker"), queryset=User.objects.none())
    grounds = forms.ChoiceField(label=_("Grounds"), choices=CaseTransfer.Grounds.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = selectors.district_lead_candidates(case.district).exclude(
            pk=case.lead_worker_id
        )


class TransferRequestForm(forms.Form):
    to_district = forms.ModelChoiceField(
        label=_("District the family moved to"), queryset=selectors.districts()
    )
    grounds = forms.ChoiceField(
        label=_("Grounds"),
        choices=CaseTransfer.Grounds.choices,
        initial=CaseTransfer.Grounds.FAMILY_MOVED,
    )
    reason = forms.CharField(
        label=_("What the receiving team should know"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_district"].queryset = selectors.transfer_districts(case)


class TransferDecisionForm(forms.Form):
    # No default: taking over a child's case is chosen, never defaulted.
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Accept the case")), ("0", _("Refuse"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the district takes the case.")},
    )
    lead = PersonChoiceField(
        label=_("New lead worker"), queryset=User.objects.none(), required=False
    )
    reason = forms.CharField(
        label=_("Why the district refuses"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, transfer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = selectors.district_lead_candidates(transfer.to_district)

    def clean(self):
        data = super().clean()
        if data.get("accept") is True and not data.get("lead"):
            self.add_error("lead", _("Name the new lead worker."))
        if data.get("accept") is False and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the district does not take the case."))
        return data


class HandOverForm(forms.Form):
    to_school = forms.ModelChoiceField(
        label=_("Receiving school"), queryset=selectors.receiving_schools()
    )
    transition = forms.ChoiceField(label=_("Transition"), choices=HandOver.Transition.choices)
    note = forms.CharField(
        label=_("Hand-over note for the school's referent"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What helps the child at the new school: needs, what works, whom to call. No case "
            "notes."
        ),
    )
    basis = forms.ChoiceField(
        label=_("Grounds for sharing"), choices=HandOver.Basis.choices, widget=forms.RadioSelect
    )
    consent_given_by = forms.CharField(
        label=_("Consent given by (parent or guardian)"), max_length=200, required=False
    )
    consent_given_on = forms.DateField(label=_("Consent given on"), widget=DATE, required=False)
    legal_basis = forms.CharField(
        label=_("Legal basis, and why consent is not asked"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class ProtocolVersionForm(forms.ModelForm):
    """A protocol version not in force yet. Categories and signs are chosen from the standard
    lists (ticked: offered on the referral form; none ticked: all of them)."""

    categories = forms.MultipleChoiceField(
        label=_("Concern categories offered"),
        choices=ConcernCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    signs = forms.MultipleChoiceField(
        label=_("Observed signs offered (checklist)"),
        choices=[(code, label) for items in INDICATORS.values() for code, label in items],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    escalation = forms.CharField(
        label=_("Escalation chain (one step per line, in order)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    class Meta:
        model = ProtocolVersion
        fields = [
            "title",
            "valid_from",
            "valid_until",
            "immediate_danger_hours",
            "urgent_days",
            "priority_days",
            "routine_days",
            "information_request_days",
            "review_weeks_high",
            "review_weeks_medium",
            "review_weeks_low",
            "team_access_months",
            "child_max_age",
            "consultation_answer_days",
            "pattern_window_days",
            "pattern_threshold",
            "school_validation",
            "feedback_message",
            "closure_message",
        ]
        widgets = {
            "valid_from": DATE,
            "valid_until": DATE,
            "feedback_message": forms.Textarea(attrs={"rows": 2}),
            "closure_message": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self.instance.concern_categories or []
        self.fields["categories"].initial = [c["code"] for c in chosen]
        self.fields["signs"].initial = [s for c in chosen for s in c.get("signs", [])]
        self.fields["escalation"].initial = "\n".join(self.instance.escalation_chain or [])

    def changes(self) -> dict:
        """The fields for services.protocol_version_update."""
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        signs = set(self.cleaned_data["signs"])
        data["concern_categories"] = [
            {
                "code": code,
                "signs": [s for s, _label in INDICATORS.get(code, []) if s in signs],
            }
            for code in self.cleaned_data["categories"]
        ]
        data["escalation_chain"] = [
            line.strip() for line in self.cleaned_data["escalation"].splitlines() if line.strip()
        ]
        return data


class ClosureForm(forms.Form):
    # No choice is made for the supervisor: closing a child's case is chosen, never defaulted.
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve the closure")), ("0", _("Keep the case open"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the case closes or stays open.")},
    )
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class AttachmentForm(forms.Form):
    title = forms.CharField(label=_("Title of the document"), max_length=200)
    file = forms.FileField(
        label=_("File"), help_text=_("PDF, JPEG, PNG, text or word-processor file.")
    )


class ContactForm(forms.Form):
    field_order = [
        "channel",
        "caller",
        "age_band",
        "category",
        "district",
        "family_reference",
        "question",
        "answer",
        "services",
        "follow_up",
    ]
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Contact.Channel.choices, widget=forms.RadioSelect
    )
    category = forms.ChoiceField(label=_("Question category"), choices=Contact.Category.choices)
    district = forms.ModelChoiceField(
        label=_("District"), queryset=selectors.districts(), required=False
    )
    family_reference = forms.CharField(
        label=_("Family reference"),
        help_text=_("A pseudonymous reference, never a name."),
        max_length=100,
        required=False,
    )
    caller = forms.ChoiceField(
        label=_("Who called"), choices=Contact.Caller.choices, widget=forms.RadioSelect
    )
    age_band = forms.ChoiceField(
        label=_("Age of the child"), choices=Contact.AgeBand.choices, required=False
    )
    question = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))
    answer = forms.CharField(
        label=_("Answer given"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    follow_up = forms.CharField(
        label=_("Follow-up"),
        help_text=_("What happens next: a call back, an appointment, a referral."),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    services = forms.ModelMultipleChoiceField(
        label=_("Services pointed to"),
        queryset=selectors.services_directory(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class DirectoryEntryForm(forms.ModelForm):
    """A service or initiative of the directory, as its district's coordinators write it."""

    website = forms.URLField(label=_("web site"), required=False, assume_scheme="https")

    class Meta:
        model = Service
        fields = [
            "name",
            "entry_type",
            "kind",
            "district",
            "neighbourhood",
            "agency",
            "description",
            "recurrence",
            "starts_on",
            "ends_on",
            "hours",
            "min_age",
            "max_age",
            "cost",
            "languages",
            "how_to_access",
            "address",
            "phone",
            "email",
            "website",
            "active",
        ]
        widgets = {
            "starts_on": DATE,
            "ends_on": DATE,
            "description": forms.Textarea(attrs={"rows": 3}),
            "how_to_access": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = selectors.districts().filter(
            pk__in=permissions.district_ids(user, permissions.KEEP_DIRECTORY)
        )
        self.fields["agency"].queryset = selectors.directory_agencies(user)


class ReferentForm(forms.ModelForm):
    """One of an agency's referents, kept by that agency."""

    class Meta:
        model = Referent
        fields = ["agency", "topic", "school", "name", "role_title", "phone", "email", "hours"]
        fields += ["active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        agencies = selectors.referent_agencies(user)
        self.fields["agency"].queryset = agencies
        self.fields["school"].queryset = selectors.schools(
            district_ids=agencies.values("district_id")
        )


# --- the mailing list -------------------------------------------------------------------------

CONSENT_TEXT = _(
    "I agree that the family helpline keeps my e-mail address (and the name I gave) to send "
    "me news of the categories I chose, until I unsubscribe. I can unsubscribe with the link "
    "in every mail, and ask the helpline for a copy of my data or for its erasure."
)


class SubscribeForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("You are"), choices=Subscriber.Kind.choices, widget=forms.RadioSelect
    )
    institution_type = forms.ChoiceField(
        label=_("Type of institution"),
        choices=[("", "—"), *Subscriber.InstitutionType.choices],
        required=False,
    )
    name = forms.CharField(
        label=_("Name (optional; an institution's name)"), max_length=200, required=False
    )
    email = forms.EmailField(label=_("E-mail"))
    district = forms.ModelChoiceField(
        label=_("District"), queryset=selectors.districts(), required=False
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("News you want to receive"),
        queryset=selectors.mailing_categories(),
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(label=CONSENT_TEXT)

    def clean(self):
        data = super().clean()
        if data.get("kind") == Subscriber.Kind.INSTITUTION and not data.get("institution_type"):
            self.add_error("institution_type", _("Say what kind of institution it is."))
        return data


class MailingForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=selectors.mailing_categories())
    district = forms.ModelChoiceField(
        label=_("District (empty: the whole network)"),
        queryset=selectors.districts(),
        required=False,
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 10}))


# --- family information and consent on the case ------------------------------------------------


class FamilyInformationForm(forms.Form):
    informed_on = forms.DateField(label=_("Informed on"), widget=DATE)
    informed_whom = forms.CharField(
        label=_("Who was informed"),
        max_length=200,
        help_text=_("For example: the mother; both parents and the child."),
    )
    what = forms.CharField(
        label=_("What the family was told"), widget=forms.Textarea(attrs={"rows": 3})
    )
    channel = forms.ChoiceField(label=_("How"), choices=FamilyInformation.Channel.choices)
    language = forms.CharField(label=_("Language"), max_length=60)
    interpreter = forms.BooleanField(label=_("With an interpreter"), required=False)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Consent to"), choices=ConsentPurpose.choices)
    agency = forms.ModelChoiceField(
        label=_("Agency or school"),
        queryset=selectors.agencies(),
        required=False,
        help_text=_("For a sharing: the agency; for a hand-over: the school."),
    )
    given_by = forms.CharField(label=_("Given by"), max_length=200)
    given_on = forms.DateField(label=_("Given on"), widget=DATE)
    how_obtained = forms.ChoiceField(label=_("How obtained"), choices=HowObtained.choices)


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Withdrawn on"), widget=DATE)
    withdrawn_how = forms.ChoiceField(label=_("How"), choices=HowObtained.choices)
    note = forms.CharField(
        label=_("About the withdrawal"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


class ObjectionForm(forms.Form):
    raised_on = forms.DateField(label=_("Raised on"), widget=DATE)
    raised_by = forms.CharField(label=_("Raised by"), max_length=200)
    about = forms.CharField(
        label=_("What the family objects to"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ObjectionHandleForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[c for c in Objection.Outcome.choices if c[0] != Objection.Outcome.PENDING],
    )
    reason = forms.CharField(
        label=_("Reason for the outcome"), widget=forms.Textarea(attrs={"rows": 2})
    )


# --- the data protection officer ---------------------------------------------------------------


class SubjectAccessForm(forms.Form):
    child = forms.ModelChoiceField(
        label=_("Child"), queryset=Child.objects.all(), widget=forms.HiddenInput
    )
    guardian = forms.ModelChoiceField(
        label=_("About a parent or guardian (empty: about the child)"),
        queryset=Guardian.objects.all(),
        required=False,
    )
    requested_by = forms.CharField(label=_("Requested by"), max_length=200)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, child=None, **kwargs):
        super().__init__(*args, **kwargs)
        if child is not None:
            self.fields["guardian"].queryset = Guardian.objects.filter(child=child)


RECTIFIABLE_CHOICES = [
    (
        name,
        format_lazy("{}: {}", model._meta.verbose_name, model._meta.get_field(name).verbose_name),
    )
    for model, key in ((Child, "child"), (Guardian, "guardian"))
    for name in RECTIFIABLE[key]
]


class RectificationForm(forms.Form):
    child = forms.ModelChoiceField(
        label=_("Child"), queryset=Child.objects.all(), widget=forms.HiddenInput
    )
    guardian = forms.ModelChoiceField(
        label=_("About a parent or guardian (empty: about the child)"),
        queryset=Guardian.objects.all(),
        required=False,
    )
    field = forms.ChoiceField(label=_("What to correct"), choices=RECTIFIABLE_CHOICES)
    requested_value = forms.CharField(label=_("The correct value"), max_length=300)
    requested_by = forms.CharField(label=_("Requested by"), max_length=200)
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    explanation = forms.CharField(
        label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, child=None, **kwargs):
        super().__init__(*args, **kwargs)
        if child is not None:
            self.fields["guardian"].queryset = Guardian.objects.filter(child=child)


class RectificationDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Accept and correct")), ("no", _("Refuse"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (required when refusing)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )


def choices_to_read(*page_forms) -> dict[str, object]:
    """The querysets of the forms' model choice fields, for selectors.read_together: a page
    showing several forms reads all their choices in its one query (then fill_choices)."""
    return {
        f"choices-{index}-{name}": field.queryset
        for index, form in enumerate(page_forms)
        for name, field in form.fields.items()
        if isinstance(field, forms.ModelChoiceField) and not hasattr(field, "_choices")
    }


def fill_choices(page_forms, read: dict) -> None:
    """Give each model choice field the records read for it (choices_to_read): the options
    its own iterator would write (the empty label, each record's value and label)."""
    for index, form in enumerate(page_forms):
        for name, field in form.fields.items():
            records = read.get(f"choices-{index}-{name}")
            if records is None:
                continue
            iterator = field.iterator(field)
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            field.choices = empty + [iterator.choice(record) for record in records]
