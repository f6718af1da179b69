"""/api/v1/consultations/, /api/v1/alerts/, /api/v1/meetings/: around the referral.

A consultation the caller is not part of answers 404; a message or a referral the state does
not allow, 409. Pattern alerts are the district triage team's only (403 for anyone else: a
referrer never learns that an alert exists). Network meetings: the district's network
coordinators and supervisors."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import permissions, prevention, selectors, services
from casework.models import (
    AgeBand,
    Agency,
    ConcernCategory,
    Consultation,
    ConsultationMessage,
    District,
    MeetingAction,
    NetworkMeeting,
    PatternAlert,
)

from .inputs import Input, Line, Text

# --- consultations ----------------------------------------------------------------------------


class MessageOut(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = ConsultationMessage
        fields = ["id", "side", "author", "body", "written_at"]


class ConsultationOut(serializers.ModelSerializer):
    school = serializers.CharField(source="school.name")
    district = serializers.CharField(source="district.code")
    messages = serializers.SerializerMethodField()
    overdue = serializers.BooleanField(source="is_overdue")

    class Meta:
        model = Consultation
        fields = [
            "id",
            "school",
            "district",
            "age_band",
            "concern_categories",
            "question",
            "status",
            "asked_at",
            "answer_due_at",
            "answered_at",
            "overdue",
            "referral",
            "messages",
        ]

    @extend_schema_field(MessageOut(many=True))
    def get_messages(self, obj) -> list[dict]:
        return MessageOut(prevention.consultation_thread(obj), many=True).data


class ConsultationIn(Input):
    age_band = serializers.ChoiceField(choices=AgeBand.choices)
    concern_categories = serializers.ListField(
        child=serializers.ChoiceField(choices=ConcernCategory.choices), allow_empty=False
    )
    question = Text(max_length=5000)


class MessageIn(Input):
    body = Text(max_length=5000)


class ChildIn(Input):
    first_name = Line(max_length=100)
    last_name = Line(max_length=100)
    date_of_birth = serializers.DateField()
    tax_code = Line(max_length=32, required=False, allow_blank=True)
    school_class = Line(max_length=40, required=False, allow_blank=True)


class ReferIn(Input):
    child = ChildIn()


@extend_schema(
    parameters=[
        OpenApiParameter("sort", str, description="due, -due, asked, -asked"),
        OpenApiParameter("overdue", bool, description="Only those past the answer deadline"),
        OpenApiParameter("status", str),
    ]
)
class ConsultationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Consultations: a school's question to the district's social team, naming no child."""

    serializer_class = ConsultationOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Consultation.objects.none()
        params = self.request.query_params
        status_filter = params.get("status")
        if status_filter and status_filter not in Consultation.Status.values:
            raise serializers.ValidationError({"status": [_("Unknown status.")]})
        sort = params.get("sort") or "-asked"
        if sort not in prevention.SORTS:
            raise serializers.ValidationError({"sort": [_("Unknown sort.")]})
        return prevention.consultations_list(
            self.request.user,
            status=status_filter,
            overdue=params.get("overdue") in ("1", "true"),
            sort=sort,
        )

    @extend_schema(request=ConsultationIn, responses={201: ConsultationOut})
    def create(self, request):
        data = ConsultationIn(data=request.data)
        data.is_valid(raise_exception=True)
        consultation = services.consultation_ask(actor=request.user, **data.validated_data)
        return Response(ConsultationOut(consultation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MessageIn, responses={201: ConsultationOut})
    @action(detail=True, methods=["post"])
    def messages(self, request, pk=None):
        consultation = self.get_object()
        data = MessageIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.consultation_write(
            actor=request.user, consultation=consultation, body=data.validated_data["body"]
        )
        consultation.refresh_from_db()
        return Response(ConsultationOut(consultation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReferIn, responses={201: ConsultationOut})
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        """The asker turns the consultation into a draft referral (the child named now)."""
        consultation = self.get_object()
        if not permissions.may_refer_consultation(request.user, consultation):
            raise PermissionDenied
        data = ReferIn(data=request.data)
        data.is_valid(raise_exception=True)
        child = {k: v for k, v in data.validated_data["child"].items() if v not in (None, "")}
        services.consultation_refer(
            actor=request.user,
            consultation=consultation,
            child=child,
            idempotency_key=f"consultation-{consultation.pk}",
        )
        consultation.refresh_from_db()
        return Response(ConsultationOut(consultation).data, status=status.HTTP_201_CREATED)


# --- pattern alerts -----------------------------------------------------------------------


class AlertReferralOut(serializers.Serializer):
    id = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    school = serializers.CharField(source="school.name")
    concern_categories = serializers.ListField()
    urgency = serializers.CharField()
    status = serializers.CharField()


class AlertContactOut(serializers.Serializer):
    id = serializers.IntegerField()
    contacted_at = serializers.DateTimeField()
    channel = serializers.CharField()
    category = serializers.CharField()
    family_reference = serializers.CharField()


class AlertOut(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    referrals = AlertReferralOut(many=True)
    contacts = AlertContactOut(many=True)
    case = serializers.CharField(source="case.reference", default=None)

    class Meta:
        model = PatternAlert
        fields = [
            "id",
            "district",
            "kind",
            "window_start",
            "window_end",
            "item_count",
            "status",
            "raised_at",
            "handled_at",
            "note",
            "case",
            "referrals",
            "contacts",
        ]


class AlertHandleIn(Input):
    note = Text(max_length=2000)
    case = Line(max_length=40, required=False, allow_blank=True)


@extend_schema(
    parameters=[OpenApiParameter("status", str, description="open (default), acknowledged…")]
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The pattern alerts of the caller's triage districts, with their items side by side."""

    serializer_class = AlertOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PatternAlert.objects.none()
        if not permissions.district_ids(self.request.user, permissions.TRIAGE):
            raise PermissionDenied
        found = prevention.alerts_for(self.request.user)
        wanted = self.request.query_params.get("status", PatternAlert.Status.OPEN)
        if self.action == "list" and wanted != "all":
            if wanted not in PatternAlert.Status.values:
                raise serializers.ValidationError({"status": [_("Unknown status.")]})
            found = found.filter(status=wanted)
        return found

    @extend_schema(request=AlertHandleIn, responses={200: AlertOut})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        data = AlertHandleIn(data=request.data)
        data.is_valid(raise_exception=True)
        case = None
        if data.validated_data.get("case"):
            case = (
                selectors.cases_visible_to(request.user)
                .filter(reference=data.validated_data["case"].strip())
                .first()
            )
            if case is None:
                raise serializers.ValidationError({"case": [_("No such case in your districts.")]})
        alert = services.pattern_alert_acknowledge(
            actor=request.user, alert=alert, note=data.validated_data["note"], case=case
        )
        return Response(AlertOut(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=AlertHandleIn, responses={200: AlertOut})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        alert = self.get_object()
        data = AlertHandleIn(data=request.data)
        data.is_valid(raise_exception=True)
        alert = services.pattern_alert_dismiss(
            actor=request.user, alert=alert, reason=data.validated_data["note"]
        )
        return Response(AlertOut(self.get_queryset().get(pk=alert.pk)).data)


# --- network meetings ---------------------------------------------------------------------


class MeetingActionOut(serializers.ModelSerializer):
    owner_agency = serializers.CharField(source="owner_agency.name")

    class Meta:
        model = MeetingAction
        fields = ["id", "description", "owner_agency", "owner_name", "due_on", "status"]


class MeetingOut(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    agencies = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    actions = MeetingActionOut(many=True, read_only=True)

    class Meta:
        model = NetworkMeeting
        fields = ["id", "district", "held_on", "title", "agencies", "agenda", "minutes", "actions"]


class MeetingIn(Input):
    district = Line(help_text="District code")
    held_on = serializers.DateField()
    title = Line(max_length=200)
    agencies = serializers.ListField(child=serializers.IntegerField(), required=False)
    agenda = Text(required=False, allow_blank=True)
    minutes = Text(required=False, allow_blank=True)


class MeetingActionIn(Input):
    description = Text(max_length=300)
    owner_agency = serializers.IntegerField()
    owner_name = Line(max_length=120, required=False, allow_blank=True)
    due_on = serializers.DateField(required=False, allow_null=True)


class MeetingChange(Input):
    """A correction of a recorded meeting (the page's "edit"): only the fields sent change;
    `agencies`, when sent, is the whole list of those present."""

    district = Line(help_text="District code", required=False)
    held_on = serializers.DateField(required=False)
    title = Line(max_length=200, required=False)
    agencies = serializers.ListField(child=serializers.IntegerField(), required=False)
    agenda = Text(required=False, allow_blank=True)
    minutes = Text(required=False, allow_blank=True)


class MeetingActionChange(Input):
    status = serializers.ChoiceField(choices=MeetingAction.Status.choices)


class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The district's network meetings (no child's data), for their keepers."""

    serializer_class = MeetingOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return NetworkMeeting.objects.none()
        if not permissions.network_table_district_ids(self.request.user):
            raise PermissionDenied
        return prevention.meetings_for(self.request.user)

    @extend_schema(request=MeetingIn, responses={201: MeetingOut})
    def create(self, request):
        data = MeetingIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        district = District.objects.filter(code=fields.pop("district")).first()
        if district is None:
            raise serializers.ValidationError({"district": [_("Unknown district.")]})
        agency_ids = fields.pop("agencies", [])
        agencies = list(Agency.objects.filter(pk__in=agency_ids))
        if len(agencies) != len(set(agency_ids)):
            raise serializers.ValidationError({"agencies": [_("Unknown agency.")]})
        meeting = services.meeting_save(
            actor=request.user,
            meeting=NetworkMeeting(district=district, **fields),
            agencies=agencies,
        )
        return Response(MeetingOut(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MeetingChange, responses=MeetingOut)
    def partial_update(self, request, pk=None):
        """Correct a meeting: its keepers (the district's network coordinators and
        supervisors); a meeting of a district the caller does not keep answers 404."""
        meeting = self.get_object()
        data = MeetingChange(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "district" in fields:
            meeting.district = District.objects.filter(code=fields.pop("district")).first()
            if meeting.district is None:
                raise serializers.ValidationError({"district": [_("Unknown district.")]})
        agencies = None
        if "agencies" in fields:
            agency_ids = fields.pop("agencies")
            agencies = list(Agency.objects.filter(pk__in=agency_ids))
            if len(agencies) != len(set(agency_ids)):
                raise serializers.ValidationError({"agencies": [_("Unknown agency.")]})
        for name, value in fields.items():
            setattr(meeting, name, value)
        services.meeting_save(actor=request.user, meeting=meeting, agencies=agencies)
        return Response(MeetingOut(self.get_queryset().get(pk=meeting.pk)).data)

    @extend_schema(
        request=MeetingActionChange,
        responses=MeetingActionOut,
        parameters=[OpenApiParameter("action_pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["patch"], url_path=r"actions/(?P<action_pk>[^/.]+)")
    def action_update(self, request, pk=None, action_pk=None):
        """An agreed action's status (the page's buttons): the meeting's keepers."""
        meeting = self.get_object()
        found = (
            MeetingAction.objects.filter(meeting=meeting, pk=action_pk).first()
            if str(action_pk).isdigit()
            else None
        )
        if found is None:
            raise Http404
        data = MeetingActionChange(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.meeting_action_update(
            actor=request.user, action=found, **data.validated_data
        )
        return Response(MeetingActionOut(changed).data)

    @extend_schema(request=MeetingActionIn, responses={201: MeetingOut})
    @action(detail=True, methods=["post"])
    def actions(self, request, pk=None):
        meeting = self.get_object()
        data = MeetingActionIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        agency = Agency.objects.filter(pk=fields.pop("owner_agency")).first()
        if agency is None:
            raise serializers.ValidationError({"owner_agency": [_("Unknown agency.")]})
        services.meeting_action_add(
            actor=request.user, meeting=meeting, owner_agency=agency, **fields
        )
        return Response(
            MeetingOut(self.get_queryset().get(pk=meeting.pk)).data,
            status=status.HTTP_201_CREATED,
        )
