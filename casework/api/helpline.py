"""/api/v1/contacts/: the helpline's contact log (helpline operators record and read it; a
district's supervisors read their districts' contacts). /api/v1/escalations/: a supervisor's
list of the referrals escalated in their districts."""

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from casework import permissions, selectors, services
from casework.audit import log_access
from casework.models import Contact, District, Referral, Service

from . import serializers as s
from .inputs import Input, Line, Text


class ContactInput(Input):
    channel = serializers.ChoiceField(choices=Contact.Channel.choices)
    caller = serializers.ChoiceField(choices=Contact.Caller.choices, default=Contact.Caller.FAMILY)
    age_band = serializers.ChoiceField(choices=Contact.AgeBand.choices, required=False, default="")
    category = serializers.ChoiceField(choices=Contact.Category.choices)
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=District.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("District code; none when the family did not say where it lives."),
    )
    family_reference = Line(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text=_("A pseudonymous reference, never a name."),
    )
    question = Text(max_length=20000)
    answer = Text(required=False, allow_blank=True, default="", max_length=20000)
    follow_up = Text(required=False, allow_blank=True, default="", max_length=20000)
    services = serializers.PrimaryKeyRelatedField(
        queryset=Service.objects.all(),
        many=True,
        required=False,
        default=list,
        help_text=_("Ids of the directory's services the caller was pointed to."),
    )


class ContactOut(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    services = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "contacted_at",
            "channel",
            "caller",
            "age_band",
            "category",
            "district",
            "family_reference",
            "question",
            "answer",
            "follow_up",
            "services",
            "outside_hours",
        ]


class ContactsView(ListAPIView):
    """The contact log, the latest first: the helpline operators every contact, a district's
    supervisors their districts' (and those with no district). Only the operators record."""

    serializer_class = ContactOut

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        user = self.request.user
        if not permissions.can_log_contacts(user) and not permissions.district_ids(
            user, permissions.SUPERVISE
        ):
            raise PermissionDenied
        return selectors.contacts_for(user, limit=None).order_by("-contacted_at", "-pk")

    @extend_schema(request=ContactInput, responses={201: ContactOut})
    def post(self, request):
        if not permissions.can_log_contacts(request.user):
            raise PermissionDenied(_("Only helpline operators log contacts."))
        data = ContactInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.contact_record(actor=request.user, **data.validated_data)
        return Response(ContactOut(contact).data, status=status.HTTP_201_CREATED)


class EscalationItem(s.ReferralListItem):
    """A line of the escalations list (its own name in the schema: numbered pages, where the
    referral list pages by position)."""


@extend_schema(
    parameters=[
        OpenApiParameter("days", int, description="How far back, in days (1 to 365; default 30)")
    ]
)
class EscalationsView(ListAPIView):
    """The referrals escalated in the caller's supervised districts, the latest first:
    the supervisors' list (as on their home page). Anyone else: 403."""

    serializer_class = EscalationItem

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Referral.objects.none()
        if not permissions.district_ids(self.request.user, permissions.SUPERVISE):
            raise PermissionDenied
        raw = self.request.query_params.get("days") or "30"
        if not raw.isdigit() or not 1 <= int(raw) <= 365:
            raise serializers.ValidationError(
                {"days": [_("Enter a whole number of days from 1 to 365.")]}
            )
        return selectors.escalations_for(self.request.user, now=timezone.now(), days=int(raw))

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        log_access(self.request, action="referral.list", referrals=[r.pk for r in page])
        return page
