"""Load the demo municipalities (fixtures/demo.py). Safe to run again: nothing is duplicated.

Every object is found by its natural key; an existing district, agency or service is saved
again only when the demo data differs from it, so a second run writes no history rows. Existing
users and children are left as they are (passwords are never reset).
"""

import base64
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import services
from casework.models import (
    Agency,
    Child,
    District,
    Membership,
    Municipality,
    ProtocolVersion,
    Referent,
    Referral,
    Service,
)
from casework.services import audited_save
from fixtures import demo

DEMO_REASON = "casework.demo.loaded"


def _sync(obj, values: dict) -> bool:
    """Copy `values` onto `obj`; tell whether anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _date(value) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _district(code: str) -> District:
    return District.objects.get(code=code)


def _agency(district_code: str, name: str) -> Agency:
    return Agency.objects.get(district__code=district_code, name=name)


def _user(username: str):
    return get_user_model().objects.get(username=username)


def _child(key) -> Child:
    first_name, last_name, date_of_birth = key
    return Child.objects.get(
        first_name=first_name, last_name=last_name, date_of_birth=_date(date_of_birth)
    )


def load_municipalities() -> int:
    """The municipalities, the retention of their records, and their protocol's version 1
    (written once: a protocol administrator's later versions are theirs)."""
    created = 0
    for data in demo.MUNICIPALITIES:
        municipality = Municipality.objects.filter(code=data["code"]).first()
        if municipality is None:
            # Its retention is set once too: the DPO's changes are theirs.
            municipality = Municipality(code=data["code"], **data["retention"])
            created += 1
        if _sync(municipality, {"name": data["name"]}) or municipality.pk is None:
            services.audited_save(municipality, actor=None, reason=DEMO_REASON)
        if not municipality.protocol_versions.exists():
            protocol = dict(data["protocol"])
            protocol["valid_from"] = _date(protocol["valid_from"])
            version = ProtocolVersion(municipality=municipality, number=1, **protocol)
            services.audited_save(version, actor=None, reason=DEMO_REASON)
    return created


def load_districts() -> int:
    created = 0
    for data in demo.DISTRICTS:
        district = District.objects.filter(code=data["code"]).first()
        if district is None:
            district = District(code=data["code"])
            created += 1
        values = {
            "name": data["name"],
            "on_duty_phone": data["on_duty_phone"],
            "municipality": Municipality.objects.get(
                code=data.get("municipality", demo.VALLEBRUNA)
            ),
        }
        if _sync(district, values) or district.pk is None:
            services.audited_save(district, actor=None, reason=DEMO_REASON)
    return created


def load_on_duty_users() -> None:
    """Set each district's on-duty worker, once the users exist."""
    for data in demo.DISTRICTS:
        district = _district(data["code"])
        if _sync(district, {"on_duty_user": _user(data["on_duty_username"])}):
            services.audited_save(district, actor=None, reason=DEMO_REASON)


def load_agencies() -> int:
    created = 0
    for data in demo.AGENCIES:
        district = _district(data["district"])
        agency = Agency.objects.filter(district=district, name=data["name"]).first()
        if agency is None:
            agency = Agency(district=district, name=data["name"])
            created += 1
        values = {
            "kind": data["kind"],
            "address": data.get("address", ""),
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "requires_referent_validation": data.get("requires_referent_validation", False),
        }
        if _sync(agency, values) or agency.pk is None:
            services.audited_save(agency, actor=None, reason=DEMO_REASON)
    return created


def load_services() -> int:
    created = 0
    for data in demo.SERVICES:
        district = _district(data["district"])
        service = Service.objects.filter(district=district, name=data["name"]).first()
        if service is None:
            service = Service(district=district, name=data["name"])
            created += 1
        values = {
            "agency": _agency(data["district"], data["agency"]) if data.get("agency") else None,
            "kind": data["kind"],
            "description": data.get("description", ""),
            "min_age": data.get("min_age", 0),
            "max_age": data.get("max_age", 18),
            "address": data.get("address", ""),
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "hours": data.get("hours", ""),
            "languages": data.get("languages", ""),
            "active": data.get("active", True),
            "entry_type": data.get("entry_type", Service.EntryType.SERVICE),
            "recurrence": data.get("recurrence", Service.Recurrence.ONGOING),
            "starts_on": _date(data["starts_on"]) if data.get("starts_on") else None,
            "ends_on": _date(data["ends_on"]) if data.get("ends_on") else None,
            "neighbourhood": data.get("neighbourhood", ""),
            "cost": data.get("cost", ""),
            "how_to_access": data.get("how_to_access", ""),
            "website": data.get("website", ""),
        }
        if _sync(service, values) or service.pk is None:
            services.service_save(actor=None, service=service)
    return created


def load_referents() -> int:
    """The agencies' referents, found by agency, topic and name; saved only when changed."""
    created = 0
    for district, agency, topic, school, name, role, phone, email, hours in demo.REFERENTS:
        agency_obj = _agency(district, agency)
        referent = Referent.objects.filter(agency=agency_obj, topic=topic, name=name).first()
        if referent is None:
            referent = Referent(agency=agency_obj, topic=topic, name=name)
            created += 1
        values = {
            "school": _agency(district, school) if school else None,
            "role_title": role,
            "phone": phone,
            "email": email,
            "hours": hours,
        }
        if _sync(referent, values) or referent.pk is None:
            # The demo loader stands in for each agency's keeper (no actor, like the services).
            reason = "casework.referent.updated" if referent.pk else "casework.referent.created"
            audited_save(referent, actor=None, reason=reason)
    return created


def load_users() -> int:
    """Create the missing users (existing ones are left alone) and their memberships."""
    user_model = get_user_model()
    created = 0
    for data in demo.USERS:
        user = user_model.objects.filter(username=data["username"]).first()
        if user is None:
            create = (
                user_model.objects.create_superuser
                if data.get("is_superuser")
                else user_model.objects.create_user
            )
            user = create(
                username=data["username"],
                email=data["email"],
                password=demo.DEMO_PASSWORD,
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
            created += 1
        if not TOTPDevice.objects.filter(user=user).exists():
            # The second factor with the published demo key (never in production: see handle).
            TOTPDevice.objects.create(user=user, name="demo", key=demo.DEMO_TOTP_KEY)
        for district_code, agency_name, role in data["memberships"]:
            # Idempotent: an existing membership is kept, and its scope grants are ensured.
            services.membership_create(
                actor=None, user=user, agency=_agency(district_code, agency_name), role=role
            )
    return created


def load_children() -> int:
    created = 0
    for data in demo.CHILDREN:
        date_of_birth = _date(data["date_of_birth"])
        if Child.objects.filter(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=date_of_birth,
        ).exists():
            continue
        services.child_create(
            actor=_user(data["created_by"]),
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=date_of_birth,
            district=_district(data["district"]),
            school=_agency(data["district"], data["school"]) if data.get("school") else None,
            school_class=data.get("school_class", ""),
            tax_code=data.get("tax_code", ""),
            home_languages=data.get("home_languages", ""),
            guardians=[dict(guardian) for guardian in data.get("guardians", [])],
        )
        created += 1
    return created


def _drive(referral: Referral, stage: str) -> None:
    """Take a demo referral through the protocol, as its users would, up to `stage`."""
    from protocols import steps

    if stage == "draft":
        return
    steps.run_step("referral.submit", obj=referral, actor=referral.referrer)
    referral.refresh_from_db()
    if referral.status == Referral.Status.AWAITING_VALIDATION:
        if stage == "awaiting_validation":
            return
        referent = (
            Membership.objects.filter(
                agency=referral.school, role=Membership.Role.SCHOOL_REFERENT, active=True
            )
            .order_by("pk")
            .first()
            .user
        )
        steps.run_step("referral.validate", obj=referral, actor=referent)
    if stage == "submitted":
        return
    worker = _user("as.ferri")
    steps.run_step("referral.claim", obj=referral, actor=worker)
    if stage == "information_requested":
        steps.run_step(
            "referral.decide",
            obj=referral,
            actor=worker,
            decision=Referral.Decision.REQUEST_INFORMATION,
            question=_("Does the child have younger siblings at home alone? Since when?"),
        )
        return
    if stage in ("review_due", "closure_requested"):
        case = steps.run_step(
            "referral.decide",
            obj=referral,
            actor=worker,
            decision=Referral.Decision.OPEN_CASE,
            lead_worker=worker,
            risk_level="medium",
            reason=_("Support for the family is needed; the school keeps watching."),
            feedback=_("We have taken up the referral; the lead worker will contact you."),
        )
        steps.run_step(
            "case.plan",
            obj=case,
            actor=worker,
            objectives=_("Afternoons looked after; the family knows the services it can use."),
        )
        # The lead brings the periodic review to today: it is due at once.
        steps.run_step(
            "case.bring_review_forward", obj=case, actor=worker, review_on=timezone.localdate()
        )
        if stage == "closure_requested":
            steps.run_step(
                "case.propose_closure",
                obj=case,
                actor=worker,
                risk_level="low",
                attendees=_("Lead worker, the mother, the class teacher"),
                notes=_("The family uses the services on its own; school attendance is regular."),
            )
        return
    if stage == "case_opened":
        case = steps.run_step(
            "referral.decide",
            obj=referral,
            actor=worker,
            decision=Referral.Decision.OPEN_CASE,
            lead_worker=worker,
            risk_level="high",
            reason=_("The child's own words describe violence at home."),
            feedback=_("We have taken up the referral; the lead worker will contact you."),
        )
        steps.run_step(
            "case.plan",
            obj=case,
            actor=worker,
            objectives=_("Protect the child and her mother; support at school."),
        )
        psychologist = _user("psicologa.conti")
        health = psychologist.memberships.get().agency
        # What the mother was told, and her consent to bring the health service in: the
        # sharing outside the team rests on it (services.consent).
        today = timezone.localdate()
        services.case_record_family_information(
            actor=worker,
            case=case,
            informed_on=today,
            informed_whom=_("The mother"),
            what=_(
                "Why the case was opened, who is on the team, what is recorded and who reads "
                "it, and her rights (access, rectification, objection)."
            ),
            channel="in_person",
            language=_("Arabic"),
            interpreter=True,
        )
        services.consent_record(
            actor=worker,
            case=case,
            purpose="share_agency",
            agency=health,
            given_by=_("The mother"),
            given_on=today,
            how_obtained="signed",
        )
        services.case_add_member(
            actor=worker,
            case=case,
            user=psychologist,
            agency=health,
            role="psychologist",
            reason=_("Psychological assessment and support"),
        )
        services.case_add_action(
            actor=worker,
            case=case,
            objective=_("Psychological assessment of the child"),
            owning_agency=psychologist.memberships.get().agency,
            owner=psychologist,
        )
        return
    raise ValueError(f"unknown demo stage {stage!r}")


def load_referrals(stdout) -> int:
    """Write the demo referrals and drive each to its stage; each is written only once
    (recognised by its author, child and observations)."""
    created = 0
    for data in demo.DRAFT_REFERRALS:
        referrer = _user(data["referrer"])
        child = _child(data["child"])
        if Referral.objects.filter(
            referrer=referrer, child=child, observations=data["observations"]
        ).exists():
            continue
        form = {
            name: value for name, value in data.items() if name in services.REFERRAL_FORM_FIELDS
        }
        referral = services.referral_create_draft(actor=referrer, child=child, **form)
        _drive(referral, data.get("stage", "draft"))
        created += 1
    stdout.write(
        _("Referrals: %(created)d created, %(total)d in the database.")
        % {"created": created, "total": Referral.objects.count()}
    )
    return created


def load_around_the_referral() -> int:
    """The consultations (one answered, one waiting), the network meeting, and the pattern
    alert that the three worries about one child raise. Each written once."""
    from casework.models import Consultation, NetworkMeeting

    created = 0
    for data in demo.CONSULTATIONS:
        if Consultation.objects.filter(question=data["question"]).exists():
            continue
        consultation = services.consultation_ask(
            actor=_user(data["asker"]),
            age_band=data["age_band"],
            concern_categories=data["concern_categories"],
            question=data["question"],
        )
        if data.get("answer"):
            services.consultation_write(
                actor=_user(data["answered_by"]), consultation=consultation, body=data["answer"]
            )
        created += 1
    today = timezone.localdate()
    for data in demo.NETWORK_MEETINGS:
        district = _district(data["district"])
        if NetworkMeeting.objects.filter(district=district, title=data["title"]).exists():
            continue
        keeper = _user(data["recorded_by"])
        meeting = services.meeting_save(
            actor=keeper,
            meeting=NetworkMeeting(
                district=district,
                held_on=today - datetime.timedelta(days=data["days_ago"]),
                title=data["title"],
                agenda=data["agenda"],
                minutes=data["minutes"],
            ),
            agencies=[_agency(data["district"], name) for name in data["agencies"]],
        )
        for agency, person, text, in_days in data["actions"]:
            services.meeting_action_add(
                actor=keeper,
                meeting=meeting,
                description=text,
                owner_agency=_agency(data["district"], agency),
                owner_name=person,
                due_on=today + datetime.timedelta(days=in_days),
            )
        created += 1
    return created + services.pattern_alerts_raise()


class Command(BaseCommand):
    help = gettext_lazy(
        "Load the demo municipality: districts, agencies, service directory, users with "
        "their roles, children and draft referrals. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=gettext_lazy("Load the demo users even though DEBUG is off."),
        )

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            # The demo has an administrator with a published password: never in production.
            raise CommandError(
                _("Refusing to load demo users with DEBUG off; pass --force on a test machine.")
            )
        lines = [
            (_("Municipalities"), load_municipalities(), Municipality.objects.count),
            (_("Districts"), load_districts(), District.objects.count),
            (_("Agencies"), load_agencies(), Agency.objects.count),
            (_("Services"), load_services(), Service.objects.count),
            (_("Users"), load_users(), get_user_model().objects.count),
        ]
        load_on_duty_users()
        lines.append((_("Referents"), load_referents(), Referent.objects.count))
        lines.append((_("Children"), load_children(), Child.objects.count))
        for label, created, count in lines:
            self.stdout.write(
                _("%(label)s: %(created)d created, %(total)d in the database.")
                % {"label": label, "created": created, "total": count()}
            )
        load_referrals(self.stdout)
        self.stdout.write(
            _("Consultations, network meetings and pattern alerts: %(created)d created.")
            % {"created": load_around_the_referral()}
        )
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo data loaded. Every demo user's password is %(password)s.")
                % {"password": demo.DEMO_PASSWORD}
            )
        )
        self.stdout.write(
            _(
                "Their second factor: the code printed by `python manage.py demo_code`, or an "
                "authenticator app with the key %(key)s."
            )
            % {"key": base64.b32encode(bytes.fromhex(demo.DEMO_TOTP_KEY)).decode()}
        )
