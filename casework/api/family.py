"""/api/v1/cases/<id>/family-information/, consents/, objections/: what the family was told,
their consents (and withdrawals) and objections (and how they were handled). The team and the
district's supervisor; never the referrer (the case itself answers 404 to them)."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from casework import permissions, services
from casework.audit import log_access
from casework.models import (
    Agency,
    Case,
    Consent,
    ConsentPurpose,
    FamilyInformation,
    HowObtained,
    Objection,
)
from casework.services import TransitionNotAllowed

from .inputs import Input, Line, Text
from .serializers import person


class FamilyInformationIO(serializers.ModelSerializer):
    informed_by = serializers.SerializerMethodField()

    class Meta:
        model = FamilyInformation
        fields = [
            "id",
            "informed_on",
            "informed_whom",
            "what",
            "channel",
            "language",
            "interpreter",
            "informed_by",
            "recorded_at",
        ]

    def get_informed_by(self, obj) -> str | None:
        return person(obj.informed_by)


class FamilyInformationInput(Input):
    informed_on = serializers.DateField()
    informed_whom = Line(max_length=200)
    what = Text()
    channel = serializers.ChoiceField(choices=FamilyInformation.Channel.choices)
    language = Line(max_length=60)
    interpreter = serializers.BooleanField(required=False, default=False)


class ConsentOut(serializers.ModelSerializer):
    agency = serializers.CharField(source="agency.name", default=None)
    in_force = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "purpose",
            "agency",
            "given_by",
            "given_on",
            "how_obtained",
            "withdrawn_on",
            "withdrawn_how",
            "withdrawal_note",
            "in_force",
        ]


class ConsentInput(Input):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), required=False, allow_null=True, default=None
    )
    given_by = Line(max_length=200)
    given_on = serializers.DateField()
    how_obtained = serializers.ChoiceField(choices=HowObtained.choices)


class WithdrawInput(Input):
    withdrawn_on = serializers.DateField()
    withdrawn_how = serializers.ChoiceField(choices=HowObtained.choices)
    note = Text(required=False, allow_blank=True, default="")


class ObjectionOut(serializers.ModelSerializer):
    handled_by = serializers.SerializerMethodField()

    class Meta:
        model = Objection
        fields = [
            "id",
            "raised_on",
            "raised_by",
            "about",
            "outcome",
            "outcome_reason",
            "handled_by",
            "handled_at",
        ]

    def get_handled_by(self, obj) -> str | None:
        return person(obj.handled_by)


class ObjectionInput(Input):
    raised_on = serializers.DateField()
    raised_by = Line(max_length=200)
    about = Text()


class ObjectionHandleInput(Input):
    outcome = serializers.ChoiceField(
        choices=[c for c in Objection.Outcome.choices if c[0] != Objection.Outcome.PENDING]
    )
    reason = Text()


def _sub(rows, pk):
    from django.http import Http404

    found = rows.filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


class FamilyActions:
    """Mixed into CaseViewSet: its get_object() finds the case among those the caller sees
    (404 otherwise); reading and writing here is for whoever works the case (403 otherwise)."""

    def _family_case(self, request):
        case = self.get_object()
        if not permissions.reads_family_records(request.user, case):
            raise PermissionDenied
        return case

    def _create(self, request, case, input_class, output_class, change):
        # The state is checked before the body: a closed case answers 409 whatever is sent.
        if case.status == Case.Status.CLOSED:
            raise TransitionNotAllowed(_("The case is closed: its file is kept as it was."))
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        created = change(data.validated_data)
        return Response(output_class(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], request=None, responses=FamilyInformationIO(many=True))
    @extend_schema(
        methods=["post"], request=FamilyInformationInput, responses={201: FamilyInformationIO}
    )
    @action(
        detail=True, methods=["get", "post"], pagination_class=None, url_path="family-information"
    )
    def family_information(self, request, pk=None):
        """Each time the family was informed (what, by whom, how, language, interpreter)."""
        case = self._family_case(request)
        if request.method == "POST":
            return self._create(
                request,
                case,
                FamilyInformationInput,
                FamilyInformationIO,
                lambda data: services.case_record_family_information(
                    actor=request.user, case=case, **data
                ),
            )
        log_access(request, action="case.family", cases=[case])
        rows = FamilyInformation.objects.filter(case=case).select_related("informed_by")
        return Response(FamilyInformationIO(rows, many=True).data)

    @extend_schema(methods=["get"], request=None, responses=ConsentOut(many=True))
    @extend_schema(methods=["post"], request=ConsentInput, responses={201: ConsentOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def consents(self, request, pk=None):
        """The family's consents: given (and withdrawn) for a purpose."""
        case = self._family_case(request)
        if request.method == "POST":
            return self._create(
                request,
                case,
                ConsentInput,
                ConsentOut,
                lambda data: services.consent_record(actor=request.user, case=case, **data),
            )
        log_access(request, action="case.family", cases=[case])
        rows = Consent.objects.filter(case=case).select_related("agency")
        return Response(ConsentOut(rows, many=True).data)

    @extend_schema(
        request=WithdrawInput,
        responses=ConsentOut,
        parameters=[OpenApiParameter("consent_pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"consents/(?P<consent_pk>[^/.]+)/withdraw")
    def consent_withdraw(self, request, pk=None, consent_pk=None):
        """The family withdraws a consent (once: a second time answers 409)."""
        case = self._family_case(request)
        consent = _sub(Consent.objects.filter(case=case), consent_pk)
        data = WithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.consent_withdraw(
            actor=request.user, consent=consent, **data.validated_data
        )
        return Response(ConsentOut(changed).data)

    @extend_schema(methods=["get"], request=None, responses=ObjectionOut(many=True))
    @extend_schema(methods=["post"], request=ObjectionInput, responses={201: ObjectionOut})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def objections(self, request, pk=None):
        """The family's objections and how they were handled."""
        case = self._family_case(request)
        if request.method == "POST":
            return self._create(
                request,
                case,
                ObjectionInput,
                ObjectionOut,
                lambda data: services.objection_record(actor=request.user, case=case, **data),
            )
        log_access(request, action="case.family", cases=[case])
        rows = Objection.objects.filter(case=case).select_related("handled_by")
        return Response(ObjectionOut(rows, many=True).data)

    @extend_schema(
        request=ObjectionHandleInput,
        responses=ObjectionOut,
        parameters=[OpenApiParameter("objection_pk", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"objections/(?P<objection_pk>[^/.]+)/handle")
    def objection_handle(self, request, pk=None, objection_pk=None):
        """The lead worker or the supervisor decides an objection, with the reason."""
        case = self._family_case(request)
        if not permissions.handles_objection(request.user, case):
            raise PermissionDenied
        objection = _sub(Objection.objects.filter(case=case), objection_pk)
        data = ObjectionHandleInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.objection_handle(
            actor=request.user, objection=objection, **data.validated_data
        )
        return Response(ObjectionOut(changed).data)
