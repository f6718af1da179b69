"""Every grant and every permission check of the project. The only importer of guardian.shortcuts.

Grants are made to groups, one group per scope (a district's triage team, a district's
supervisors, a school's referents, a case team), so that guardian holds a handful of rows and
lists filter on indexed foreign keys (see casework.selectors) instead of per-record rows.

The predicates below are the only answers to "may this person do that": services, the flow
nodes' `.Permission` (through RULES), selectors, pages, the API and the menu all ask them.
They never consult the superuser flag or a model-wide permission for case data: a superuser
is an administrator of the installation, not a member of any district's team.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from .models import (
    Agency,
    AgencyGroupObjectPermission,
    AgencyUserObjectPermission,
    Case,
    CaseGroupObjectPermission,
    CaseTeamMember,
    CaseUserObjectPermission,
    Consultation,
    District,
    DistrictGroupObjectPermission,
    DistrictUserObjectPermission,
    Membership,
    NetworkMeeting,
    PatternAlert,
    Referral,
)

TRIAGE = "casework.triage_district"
SUPERVISE = "casework.supervise_district"
SCHOOL_VIEW = "casework.view_school_referrals"
SCHOOL_VALIDATE = "casework.validate_school_referrals"
CASE_WORK = "casework.work_case"
CASE_LEAD = "casework.lead_case"
# Not a stored permission: the rule of the step where the referrer answers a question.
REFERRER = "casework.answer_own_referral"
# Not stored permissions either: the rules of the review steps taken between two periodic
# reviews (an extraordinary review; the lead bringing the next periodic one forward).
EXTRAORDINARY_REVIEW = "casework.hold_extraordinary_review"
BRING_REVIEW_FORWARD = "casework.bring_review_forward"
AUDIT_TRAIL = "casework.read_audit_trail"
LOG_CONTACTS = "casework.add_contact"
KEEP_DIRECTORY = "casework.keep_directory"

TRIAGE_ROLES = {Membership.Role.SOCIAL_WORKER, Membership.Role.TRIAGE_COORDINATOR}

# The few model-wide permissions a role carries (also created by migration 0003).
ROLE_PERMISSIONS = {
    Membership.Role.AUDITOR: ["read_audit_trail"],
    Membership.Role.HELPLINE_OPERATOR: ["add_contact", "view_contact", "change_contact"],
}


def district_triage_group(district: District) -> Group:
    group, _ = Group.objects.get_or_create(name=f"district:{district.code}:triage")
    return group


def district_supervisors_group(district: District) -> Group:
    group, _ = Group.objects.get_or_create(name=f"district:{district.code}:supervisors")
    return group


def district_network_group(district: District) -> Group:
    group, _ = Group.objects.get_or_create(name=f"district:{district.code}:network")
    return group


def school_referents_group(school: Agency) -> Group:
    group, _ = Group.objects.get_or_create(name=f"agency:{school.pk}:referents")
    return group


def case_team_group(case: Case) -> Group:
    group, _ = Group.objects.get_or_create(name=f"case:{case.pk}:team")
    return group


def scope_groups_for_membership(membership: Membership) -> list[tuple[Group, list[str], object]]:
    """The groups (with their object permissions) that a membership's role opens."""
    agency = membership.agency
    role = membership.role
    if role in TRIAGE_ROLES and agency.kind == Agency.Kind.SOCIAL_SERVICES:
        return [(district_triage_group(agency.district), [TRIAGE], agency.district)]
    if role == Membership.Role.SUPERVISOR:
        district = agency.district
        return [
            (district_supervisors_group(district), [SUPERVISE, TRIAGE], district),
        ]
    if role == Membership.Role.SCHOOL_REFERENT and agency.kind == Agency.Kind.SCHOOL:
        return [(school_referents_group(agency), [SCHOOL_VIEW, SCHOOL_VALIDATE], agency)]
    if role == Membership.Role.NETWORK_COORDINATOR:
        # The district's network coordinators keep its directory (seed 004's "banca dati"),
        # whichever agency of the district employs them.
        district = agency.district
        return [(district_network_group(district), [KEEP_DIRECTORY], district)]
    return []


def membership_grant(membership: Membership) -> None:
    for group, perms, obj in scope_groups_for_membership(membership):
        for perm in perms:
            assign_perm(perm, group, obj)
        membership.user.groups.add(group)
    role_group, created = Group.objects.get_or_create(name=f"role:{membership.role}")
    codenames = ROLE_PERMISSIONS.get(membership.role, [])
    if codenames and (created or role_group.permissions.count() < len(codenames)):
        role_group.permissions.add(
            *Permission.objects.filter(content_type__app_label="casework", codename__in=codenames)
        )
    membership.user.groups.add(role_group)


def membership_revoke(membership: Membership) -> None:
    """Remove the user from the scope groups, unless another active membership still opens them."""
    still_open = {
        group.pk
        for other in Membership.objects.filter(user=membership.user, active=True)
        .exclude(pk=membership.pk)
        .select_related("agency__district")
        for group, _perms, _obj in scope_groups_for_membership(other)
    }
    for group, _perms, _obj in scope_groups_for_membership(membership):
        if group.pk not in still_open:
            membership.user.groups.remove(group)
    same_role = Membership.objects.filter(user=membership.user, active=True, role=membership.role)
    if not same_role.exclude(pk=membership.pk).exists():
        membership.user.groups.remove(*Group.objects.filter(name=f"role:{membership.role}"))


def case_grant_team(*, case: Case, user) -> None:
    group = case_team_group(case)
    assign_perm(CASE_WORK, group, case)
    user.groups.add(group)


def case_revoke_team(*, case: Case, user) -> None:
    user.groups.remove(case_team_group(case))


def case_grant_lead(*, case: Case, user) -> None:
    case_grant_team(case=case, user=user)
    assign_perm(CASE_LEAD, user, case)


def case_revoke_lead(*, case: Case, user) -> None:
    remove_perm(CASE_LEAD, user, case)


def case_hand_over(*, case: Case, leaving, arriving) -> None:
    """The grants follow the lead: whoever leaves the case loses the lead's grant and the
    team's group; the new lead gets both. `leaving` may be empty (the lead had already gone)."""
    for user in leaving:
        if arriving is not None and user.pk == arriving.pk:
            continue
        case_revoke_lead(case=case, user=user)
        case_revoke_team(case=case, user=user)
    if arriving is not None:
        case_grant_lead(case=case, user=arriving)


# The roles whose active membership a scope needs, on top of the scope's grant: a group joined
# any other way (an administrator adding a user to a group) opens nothing.
SCOPE_ROLES = {
    TRIAGE: TRIAGE_ROLES | {Membership.Role.SUPERVISOR},
    SUPERVISE: {Membership.Role.SUPERVISOR},
    SCHOOL_VIEW: {Membership.Role.SCHOOL_REFERENT},
    SCHOOL_VALIDATE: {Membership.Role.SCHOOL_REFERENT},
    KEEP_DIRECTORY: {Membership.Role.NETWORK_COORDINATOR},
}


def _active_memberships(user, roles=None):
    memberships = Membership.objects.filter(user=user, active=True)
    return memberships.filter(role__in=roles) if roles is not None else memberships


def team_case_ids(user):
    """Cases where the user is on the team today: not removed, end date not passed, and still
    a member of the agency they were brought in for (a membership's end ends the access)."""
    today = timezone.localdate()
    return (
        CaseTeamMember.objects.filter(
            user=user,
            removed_at__isnull=True,
            agency__memberships__user=user,
            agency__memberships__active=True,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values("case_id")
    )


# The direct-foreign-key grant tables of each model that carries object permissions.
_GRANT_TABLES = {
    District: (DistrictGroupObjectPermission, DistrictUserObjectPermission),
    Agency: (AgencyGroupObjectPermission, AgencyUserObjectPermission),
    Case: (CaseGroupObjectPermission, CaseUserObjectPermission),
}

# The per-request memo of scope ids (see `remember_scopes`), kept on the user object the
# request loaded. Absent outside a read-only request: services and tasks always ask the
# database, so a grant given or ended in the same transaction is seen at once.
_MEMO = "_casework_scope_memo"


def remember_scopes(user) -> None:
    """Start memoising the user's scope ids (districts, schools, roles) for one request that
    changes nothing (GET, HEAD): the menu, the page and its selectors read them once."""
    if is_active(user):
        setattr(user, _MEMO, {})


def forget_scopes(user) -> None:
    if user is not None and hasattr(user, _MEMO):
        delattr(user, _MEMO)


def _memo(user, key, compute):
    memo = getattr(user, _MEMO, None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


class _Snapshot:
    """Everything a read-only request may ask about its user's grants, read in ONE query (a
    `UNION ALL` over the memberships, the district and school grant tables and the model-wide
    permissions): the menu, the page, its selectors and Viewflow's menu then ask no more.
    Each answer below is the one the matching query of `_scoped_query`, `roles_of` or
    `_role_permissions` gives."""

    def __init__(self, rows):
        self.memberships = []  # (role, agency_id, district_id) of the active memberships
        self.grants = {District: {}, Agency: {}}  # klass -> perm -> {pk}
        self.model_permissions = set()  # "app_label.codename", held directly or by a group
        # The districts of the active memberships that have an open pattern alert: the queue
        # reads the alerts themselves only when one of its districts has one.
        self.alert_districts = set()
        for kind, label, codename, object_id, district_id in rows:
            if kind == "membership":
                self.memberships.append((label, object_id, district_id))
            elif kind == "permission":
                self.model_permissions.add(f"{label}.{codename}")
            elif kind == "alert":
                self.alert_districts.add(district_id)
            else:
                klass = District if kind == "district" else Agency
                self.grants[klass].setdefault(f"{label}.{codename}", set()).add(object_id)

    def roles(self, roles=None) -> list[tuple]:
        return [m for m in self.memberships if roles is None or m[0] in roles]

    def scope_ids(self, perm: str, klass) -> list[int]:
        held = self.roles(SCOPE_ROLES.get(perm))
        opened = {m[2] if klass is District else m[1] for m in held}
        return sorted(self.grants[klass].get(perm, set()) & opened)


def _snapshot(user) -> _Snapshot:
    return _memo(user, "snapshot", lambda: _Snapshot(_snapshot_rows(user)))


def _snapshot_rows(user):
    User = get_user_model()
    user_groups = User.groups.through._meta.db_table
    user_permissions = User.user_permissions.through._meta.db_table
    group_permissions = Group.permissions.through._meta.db_table
    permission = Permission._meta.db_table
    content_type = ContentType._meta.db_table
    joined = (
        f"JOIN {permission} p ON p.id = g.permission_id "
        f"JOIN {content_type} ct ON ct.id = p.content_type_id"
    )
    branches = [
        f"SELECT 'membership', m.role, NULL, m.agency_id, a.district_id "  # noqa: S608 - names from _meta, values bound
        f"FROM {Membership._meta.db_table} m JOIN {Agency._meta.db_table} a ON a.id = m.agency_id "
        f"WHERE m.user_id = %s AND m.active"
    ]
    params = [user.pk]
    for kind, klass, (group_table, user_table) in (
        ("district", District, _GRANT_TABLES[District]),
        ("agency", Agency, _GRANT_TABLES[Agency]),
    ):
        model = klass._meta.model_name
        branches.append(
            f"SELECT '{kind}', ct.app_label, p.codename, g.content_object_id, NULL "  # noqa: S608 - names from _meta, values bound
            f"FROM {group_table._meta.db_table} g {joined} "
            f"JOIN {user_groups} ug ON ug.group_id = g.group_id "
            f"WHERE ug.user_id = %s AND ct.model = '{model}'"
        )
        branches.append(
            f"SELECT '{kind}', ct.app_label, p.codename, g.content_object_id, NULL "  # noqa: S608 - names from _meta, values bound
            f"FROM {user_table._meta.db_table} g {joined} "
            f"WHERE g.user_id = %s AND ct.model = '{model}'"
        )
        params += [user.pk, user.pk]
    branches.append(
        f"SELECT 'permission', ct.app_label, p.codename, NULL, NULL "  # noqa: S608 - names from _meta, values bound
        f"FROM {user_permissions} g {joined} WHERE g.user_id = %s"
    )
    branches.append(
        f"SELECT 'permission', ct.app_label, p.codename, NULL, NULL "  # noqa: S608 - names from _meta, values bound
        f"FROM {group_permissions} g {joined} "
        f"JOIN {user_groups} ug ON ug.group_id = g.group_id WHERE ug.user_id = %s"
    )
    params += [user.pk, user.pk]
    branches.append(
        f"SELECT 'alert', NULL, NULL, NULL, pa.district_id "  # noqa: S608 - names from _meta, values bound
        f"FROM {PatternAlert._meta.db_table} pa "
        f"JOIN {Agency._meta.db_table} a ON a.district_id = pa.district_id "
        f"JOIN {Membership._meta.db_table} m ON m.agency_id = a.id "
        f"WHERE m.user_id = %s AND m.active AND pa.status = %s"
    )
    params += [user.pk, PatternAlert.Status.OPEN]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    if not user.is_superuser and not hasattr(user, "_perm_cache"):
        # Django's ModelBackend keeps the user's model-wide permissions on the user object
        # (`_perm_cache`, the union of the direct and the group permissions, for an active
        # user who is not a superuser): the same set, so Viewflow's menu (`user.has_perm`)
        # asks no more queries of its own.
        user._perm_cache = {
            f"{label}.{codename}" for kind, label, codename, *_rest in rows if kind == "permission"
        }
    return rows


def _granted(user, perm: str, klass):
    """The pks of `klass` on which `perm` is granted to the user or to one of their groups,
    read straight from the direct-foreign-key tables: one query (guardian's generic
    get_objects_for_user builds several, and this is asked on every page)."""
    app_label, codename = perm.split(".", 1)
    group_table, user_table = _GRANT_TABLES[klass]
    permission = {
        "permission__codename": codename,
        "permission__content_type__app_label": app_label,
        "permission__content_type__model": klass._meta.model_name,
    }
    return Q(
        pk__in=group_table.objects.filter(group__user=user, **permission).values(
            "content_object_id"
        )
    ) | Q(pk__in=user_table.objects.filter(user=user, **permission).values("content_object_id"))


def _scoped(user, perm: str, klass):
    """Objects on which the user holds `perm` through a scope grant: never through a global
    permission, never because of the superuser flag, and only while the membership that
    opens the scope is active."""
    if not is_active(user):
        return klass.objects.none()
    if klass is not Case and hasattr(user, _MEMO):
        return klass.objects.filter(pk__in=scope_ids(user, perm, klass))
    return _scoped_query(user, perm, klass)


def scope_ids(user, perm: str, klass) -> list[int]:
    """The pks of _scoped(user, perm, klass) as a list: read once per read-only request. With
    literal ids the database plans the lists on the referral indexes instead of guessing."""
    if not is_active(user):
        return []
    if hasattr(user, _MEMO) and klass in (District, Agency):
        return _memo(user, (perm, klass), lambda: _snapshot(user).scope_ids(perm, klass))
    return list(_scoped_query(user, perm, klass).values_list("pk", flat=True))


def open_alert_district_ids(user) -> set[int]:
    """The districts the user triages that have an open pattern alert (read with the
    grants, no query of its own)."""
    if not is_active(user):
        return set()
    return _snapshot(user).alert_districts & set(district_ids(user, TRIAGE))


def district_ids(user, perm: str = TRIAGE) -> list[int]:
    return scope_ids(user, perm, District)


def school_ids(user, perm: str = SCHOOL_VIEW) -> list[int]:
    return scope_ids(user, perm, Agency)


def _scoped_query(user, perm: str, klass):
    objects = klass.objects.filter(_granted(user, perm, klass))
    roles = SCOPE_ROLES.get(perm)
    if klass is District:
        memberships = _active_memberships(user, roles).values("agency__district_id")
        return objects.filter(pk__in=memberships)
    if klass is Agency:
        return objects.filter(pk__in=_active_memberships(user, roles).values("agency_id"))
    if klass is Case:
        return objects.filter(pk__in=team_case_ids(user))
    return objects


def districts_for(user, perm: str = TRIAGE):
    """Districts where the user holds `perm` through a scope grant (never a global permission)."""
    return _scoped(user, perm, District)


def schools_for(user, perm: str = SCHOOL_VIEW):
    return _scoped(user, perm, Agency)


def cases_for(user, perm: str = CASE_WORK):
    return _scoped(user, perm, Case)


# --- predicates -------------------------------------------------------------------------------


# Roles that see no case data: a second factor is their choice (unless TWO_FACTOR=everyone).
SECOND_FACTOR_OPTIONAL_ROLES = {
    Membership.Role.TEACHER,
    Membership.Role.SCHOOL_REFERENT,
    Membership.Role.HELPLINE_OPERATOR,
}


def needs_second_factor(user) -> bool:
    """Who must confirm their sign-in with a second factor before anything else: staff, and
    anyone holding an active membership with a role that can read case data."""
    from django.conf import settings

    if not is_active(user):
        return False
    if settings.TWO_FACTOR == "everyone" or user.is_staff or user.is_superuser:
        return True
    return _active_memberships(user).exclude(role__in=SECOND_FACTOR_OPTIONAL_ROLES).exists()


def is_active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _holds(user, perm: str, obj) -> bool:
    if obj is None or not is_active(user):
        return False
    if type(obj) is not Case and hasattr(user, _MEMO):
        return obj.pk in scope_ids(user, perm, type(obj))
    return _scoped(user, perm, type(obj)).filter(pk=obj.pk).exists()


def _has_role_permission(user, perm: str) -> bool:
    """A model-wide permission carried by a role group (auditor, helpline operator), read from
    the groups themselves: the superuser flag does not imply it."""
    if not is_active(user):
        return False
    if hasattr(user, _MEMO):
        return perm in _snapshot(user).model_permissions
    return perm in _role_permissions(user)


def _role_permissions(user) -> set[str]:
    """Every model-wide permission the user holds directly or through a group, as
    "app_label.codename": one query, whichever of them is asked."""
    rows = (
        Permission.objects.filter(Q(group__user=user) | Q(user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def roles_of(user) -> set[str]:
    """The roles of the user's active memberships (memoised for a read-only request)."""
    if not is_active(user):
        return set()
    if hasattr(user, _MEMO):
        return {role for role, _agency, _district in _snapshot(user).memberships}
    return set(_active_memberships(user).values_list("role", flat=True))


def triages_district(user, district: District) -> bool:
    """On the district's triage team (social workers, triage coordinators, supervisors)."""
    return _holds(user, TRIAGE, district)


def supervises_district(user, district: District) -> bool:
    return _holds(user, SUPERVISE, district)


def can_validate(user, school: Agency) -> bool:
    """A referent of the school: validates and sends the school's referrals."""
    return _holds(user, SCHOOL_VALIDATE, school)


def can_triage(user, referral: Referral) -> bool:
    return triages_district(user, referral.district)


def is_referrer(user, referral: Referral) -> bool:
    return is_active(user) and referral.referrer_id == user.pk


def is_lead(user, case: Case) -> bool:
    return is_active(user) and case.lead_worker_id == user.pk and is_on_team(user, case)


def is_supervisor(user, case: Case) -> bool:
    return supervises_district(user, case.district)


def is_on_team(user, case: Case) -> bool:
    """On the team now: not removed, not past the end date, still a member of the agency
    (checked at every request)."""
    if not is_active(user):
        return False
    return _memo(
        user, ("team", case.pk), lambda: team_case_ids(user).filter(case_id=case.pk).exists()
    )


def note_team(user, case: Case, members) -> None:
    """Answer `is_on_team` for the rest of a read-only request from the case's team as a
    page read it (the members not removed) and the user's active memberships (the request's
    grants): the answer `team_case_ids` gives, without its query. Does nothing for a request
    that keeps no memo (one that changes something asks the database)."""
    if not hasattr(user, _MEMO) or not is_active(user):
        return
    agencies = {agency for _role, agency, _district in _snapshot(user).memberships}
    today = timezone.localdate()
    on_team = any(
        member.user_id == user.pk
        and member.removed_at is None
        and (member.valid_until is None or member.valid_until >= today)
        and member.agency_id in agencies
        for member in members
    )
    getattr(user, _MEMO).setdefault(("team", case.pk), on_team)


def can_work_case(user, case: Case) -> bool:
    """Record actions, notes and reviews: the team, and the district's supervisor."""
    return is_on_team(user, case) or is_supervisor(user, case)


def can_lead_case(user, case: Case) -> bool:
    """Write the plan, change the team, propose closure: the lead worker, and the supervisor."""
    return is_lead(user, case) or is_supervisor(user, case)


def can_decide_closure(user, case: Case) -> bool:
    return is_supervisor(user, case)


def can_change_lead(user, case: Case) -> bool:
    """Name another lead worker of the district: the district's supervisor."""
    return is_supervisor(user, case)


def can_request_transfer(user, case: Case) -> bool:
    """Ask another district to take the case over (the family moved): the lead worker and
    the district's supervisor."""
    return can_lead_case(user, case)


def can_decide_transfer(user, transfer) -> bool:
    """Accept or refuse a case coming from another district: the receiving district's
    supervisor."""
    return supervises_district(user, transfer.to_district)


def can_withdraw_transfer(user, transfer) -> bool:
    """Withdraw a request not yet decided: whoever leads the case in the sending district."""
    return transfer.case.district_id == transfer.from_district_id and can_lead_case(
        user, transfer.case
    )


def reads_transfer(user, transfer) -> bool:
    """The transfer record (reference, dates, districts, reason): the supervisors of both
    districts, whoever asked for it, and whoever leads the case now. What the sending district
    keeps of a case that moved away is this record, not the file."""
    if not is_active(user):
        return False
    return (
        transfer.requested_by_id == user.pk
        or supervises_district(user, transfer.to_district)
        or supervises_district(user, transfer.from_district)
        or can_lead_case(user, transfer.case)
    )


def can_send_handover(user, case: Case) -> bool:
    """Prepare and send a hand-over note at a school-grade transition: whoever works the case
    (the team, the district's supervisor)."""
    return can_work_case(user, case)


def receives_handover(user, handover) -> bool:
    """Read and acknowledge a hand-over note: a referent of the receiving school."""
    return can_validate(user, handover.to_school)


def can_hold_extraordinary_review(user, case: Case) -> bool:
    """An extraordinary review, at any time while the case is open: whoever works the case
    (the team and the district's supervisor), as for a periodic review."""
    return can_work_case(user, case)


def can_bring_review_forward(user, case: Case) -> bool:
    """Move the next periodic review to an earlier day: the lead worker (and the supervisor),
    who set the team's rhythm."""
    return can_lead_case(user, case)


# Who reads the child's full name in the triage queue: those who assign the work and must
# spot a child already known (coordinators, supervisors). A list is read over shoulders and
# on shared screens: everyone else reads initials until they claim the referral.
QUEUE_NAME_ROLES = {Membership.Role.TRIAGE_COORDINATOR, Membership.Role.SUPERVISOR}


def queue_name_checker(user):
    """referral → True when the queue may show the child's full name to `user` (initials
    otherwise). Two queries for the whole list, none per row."""
    triage = set(district_ids(user, TRIAGE))
    if hasattr(user, _MEMO):
        naming = {m[2] for m in _snapshot(user).roles(QUEUE_NAME_ROLES)}
    else:
        naming = set(
            _active_memberships(user, QUEUE_NAME_ROLES).values_list(
                "agency__district_id", flat=True
            )
        )
    districts = triage & naming
    user_id = user.pk

    def shows_name(referral: Referral) -> bool:
        return referral.district_id in districts or referral.claimed_by_id == user_id

    return shows_name


def is_auditor(user) -> bool:
    return _has_role_permission(user, AUDIT_TRAIL)


def can_log_contacts(user) -> bool:
    return _has_role_permission(user, LOG_CONTACTS)


def keeps_directory(user, district: District) -> bool:
    """Add and change the district's services and initiatives: its network coordinators."""
    return _holds(user, KEEP_DIRECTORY, district)


def keeps_any_directory(user) -> bool:
    return bool(district_ids(user, KEEP_DIRECTORY))


# Who keeps an agency's referents up to date (seed 002: "each agency for itself"): those of
# its members whose role is to coordinate or to be the contact point.
REFERENT_KEEPER_ROLES = {
    Membership.Role.SCHOOL_REFERENT,
    Membership.Role.TRIAGE_COORDINATOR,
    Membership.Role.SUPERVISOR,
    Membership.Role.NETWORK_COORDINATOR,
    Membership.Role.HELPLINE_OPERATOR,
}


def referent_agency_ids(user) -> set[int]:
    """The agencies whose referents `user` keeps."""
    if not is_active(user):
        return set()
    if hasattr(user, _MEMO):
        return {m[1] for m in _snapshot(user).roles(REFERENT_KEEPER_ROLES)}
    return set(_active_memberships(user, REFERENT_KEEPER_ROLES).values_list("agency_id", flat=True))


def keeps_referents(user, agency: Agency) -> bool:
    return agency is not None and agency.pk in referent_agency_ids(user)


def reads_referents(user) -> bool:
    """Referents are professionals' work contacts: every signed-in member of the network,
    never the public."""
    return bool(roles_of(user))


def administered_municipality_ids(user) -> list[int]:
    """The municipalities whose protocol the user administers: an active membership with the
    protocol administrator's role in an agency of one of its districts. Granted only through
    the membership, like every scope; the superuser flag opens nothing."""
    if not is_active(user):
        return []
    return _memo(
        user,
        "protocol_municipalities",
        lambda: list(
            _active_memberships(user, {Membership.Role.PROTOCOL_ADMINISTRATOR})
            .filter(agency__district__municipality__isnull=False)
            .values_list("agency__district__municipality_id", flat=True)
            .distinct()
        ),
    )


def administers_protocol(user, municipality) -> bool:
    """List, create and schedule the municipality's protocol versions."""
    return municipality is not None and municipality.pk in administered_municipality_ids(user)


def administers_any_protocol(user) -> bool:
    return bool(administered_municipality_ids(user))


def can_manage_mailing_list(user) -> bool:
    """The mailing list and its mailings are the helpline's work (seed 004): its operators
    write and send mailings, read the subscribers, export or erase one on request."""
    return can_log_contacts(user)


def indicators_scope(user) -> tuple[object | None, bool] | None:
    """What of the yearly report `user` reads: (districts, whole report). Districts None is
    the whole network. The administrator reads everything; a supervisor the whole report of
    their districts (and the helpline's contacts, subscribers and mailings with no district);
    a helpline operator the helpline part of the whole network. None: nothing."""
    if not is_active(user):
        return None
    if user.is_superuser:
        return None, True
    supervised = districts_for(user, SUPERVISE)
    if supervised.exists():
        return supervised, True
    if can_log_contacts(user):
        return None, False
    return None


def reads_indicators(user) -> bool:
    """The yearly indicators (aggregates, no personal data): the district supervisors for
    their districts, and the installation's administrator for the whole network."""
    if not is_active(user):
        return False
    return user.is_superuser or bool(district_ids(user, SUPERVISE))


# The rule behind each protocol node's `.Permission(rule, obj=...)`: the step driver and the
# flow nodes ask these, never Django's has_perm (which says yes to every superuser).
RULES = {
    TRIAGE: triages_district,
    SUPERVISE: supervises_district,
    SCHOOL_VALIDATE: can_validate,
    CASE_WORK: can_work_case,
    CASE_LEAD: can_lead_case,
    REFERRER: is_referrer,
    EXTRAORDINARY_REVIEW: can_hold_extraordinary_review,
    BRING_REVIEW_FORWARD: can_bring_review_forward,
}


def allows(rule: str, user, obj) -> bool:
    """Whether `user` may do the protocol step whose node declares `rule` on `obj`."""
    return RULES[rule](user, obj)


# --- reading ----------------------------------------------------------------------------------

NOT_YET_SENT = (Referral.Status.DRAFT, Referral.Status.AWAITING_VALIDATION)


def referral_view_level(user, referral: Referral) -> str:
    """How much of a visible referral the user may read: 'full' for the social side (the
    district's triage team once it is sent, the team of the case it belongs to), 'referrer'
    for the school (its own form, status and outcome — never the case file)."""
    if referral.status not in NOT_YET_SENT and triages_district(user, referral.district):
        return "full"
    if referral.case_id and is_on_team(user, referral.case):
        return "full"
    return "referrer"


def may_read_referral_history(user, referral: Referral) -> bool:
    if is_auditor(user):
        return True
    return referral.status not in NOT_YET_SENT and triages_district(user, referral.district)


def holds_trail_unlock(user, kind: str, pk: int) -> bool:
    """Break-glass: the auditor stated a purpose for reading this trail's values, and the
    short while it opened has not passed (services.trail_unlock)."""
    from django.utils import timezone

    from .models import TrailUnlock

    return (
        is_auditor(user)
        and TrailUnlock.objects.filter(
            user=user, object_type=kind, object_id=pk, expires_at__gt=timezone.now()
        ).exists()
    )


def may_unlock_trail(user) -> bool:
    """Who may state a purpose to read a trail's values: the auditors."""
    return is_auditor(user)


def reads_referral_history_values(user, referral: Referral) -> bool:
    """The values in a referral's trail (the text typed, the answers): for the social side
    that triages it. The auditor reads who, when, why and which fields; the values only
    through break-glass (a stated purpose, logged, told to the supervisors)."""
    if referral.status not in NOT_YET_SENT and triages_district(user, referral.district):
        return True
    return holds_trail_unlock(user, "referral", referral.pk)


def reads_case_history_values(user, case: Case) -> bool:
    """The values in a case's trail: the lead worker and the supervisor; the auditor only
    through break-glass."""
    return can_lead_case(user, case) or holds_trail_unlock(user, "case", case.pk)


def case_page_rights(user, case: Case) -> dict[str, bool]:
    """What the case page offers the reader, each predicate asked once: "lead"
    (can_lead_case), "supervisor" (is_supervisor), "history" (may_read_case_history)."""
    supervisor = is_supervisor(user, case)
    lead = supervisor or is_lead(user, case)
    return {"lead": lead, "supervisor": supervisor, "history": lead or is_auditor(user)}


def may_read_case_history(user, case: Case) -> bool:
    """The case's audit trail and access report: the lead, the supervisor, the auditor."""
    return is_auditor(user) or can_lead_case(user, case)


# --- family information, consent, the data subject's rights (issue 16) --------------------------


def reads_family_records(user, case: Case) -> bool:
    """What the family was told, their consents and objections: whoever works the case (the
    team and the district's supervisor). Never the referrer's side."""
    return can_work_case(user, case)


def records_family_records(user, case: Case) -> bool:
    """Record that the family was informed, a consent given or withdrawn, an objection
    raised: the team, the lead and the supervisor."""
    return can_work_case(user, case)


def handles_objection(user, case: Case) -> bool:
    """Decide an objection (upheld or not, with the reason): the lead worker and the
    supervisor, who answer for the processing of the case."""
    return can_lead_case(user, case)


def is_data_protection_officer(user) -> bool:
    """The DPO's pages (the register of processing, break-glass reads, access patterns),
    subject access exports and rectification requests: the auditors' role (the municipality's
    data protection office)."""
    return is_auditor(user)


# --- retention: legal holds ------------------------------------------------------------------


def may_place_any_hold(user) -> bool:
    """The holds' pages: the data protection officer (auditor role) and the supervisors."""
    return is_auditor(user) or bool(district_ids(user, SUPERVISE))


def may_place_hold(user, *, district) -> bool:
    """A hold on a record: the data protection officer on any record, a supervisor on the
    records of their district (a contact with no district: the officer only)."""
    if is_auditor(user):
        return True
    return district is not None and supervises_district(user, district)


def may_lift_hold(user, hold) -> bool:
    return may_place_hold(user, district=hold.district)


# --- around the referral: consultations, pattern alerts, the network's tables ----------------

# Who asks the district's team about a worry before any referral: those who may refer.
CONSULTATION_ROLES = {Membership.Role.TEACHER, Membership.Role.SCHOOL_REFERENT}


def consultation_school_ids(user) -> list[int]:
    """The schools for which `user` may ask a consultation (teacher or referent there)."""
    if not is_active(user):
        return []
    return _memo(
        user,
        "consultation_schools",
        lambda: list(
            _active_memberships(user, CONSULTATION_ROLES)
            .filter(agency__kind=Agency.Kind.SCHOOL)
            .order_by("pk")
            .values_list("agency_id", flat=True)
        ),
    )


def may_ask_consultation(user) -> bool:
    return bool(consultation_school_ids(user))


def consultation_side(user, consultation: Consultation) -> str | None:
    """'team' for the district's triage team (and supervisors), 'asker' for the person who
    asked and the school's referents, None for everyone else (another teacher of the school,
    another school, another district, the auditor: the thread does not exist for them)."""
    if not is_active(user):
        return None
    if triages_district(user, consultation.district):
        return "team"
    if consultation.asker_id == user.pk and consultation.school_id in consultation_school_ids(user):
        return "asker"
    if _holds(user, SCHOOL_VIEW, consultation.school):
        return "asker"
    return None


def may_answer_consultation(user, consultation: Consultation) -> bool:
    return consultation_side(user, consultation) == "team"


def may_refer_consultation(user, consultation: Consultation) -> bool:
    """Only the person who asked turns the consultation into a referral (they know the child)."""
    return (
        is_active(user)
        and consultation.asker_id == user.pk
        and consultation.school_id in consultation_school_ids(user)
    )


def may_handle_alert(user, alert: PatternAlert) -> bool:
    """Pattern alerts are the district's triage team's: never a referrer's."""
    return triages_district(user, alert.district)


def network_table_district_ids(user) -> list[int]:
    """The districts whose network meetings `user` keeps: its network coordinators and its
    supervisors."""
    return sorted(set(district_ids(user, KEEP_DIRECTORY)) | set(district_ids(user, SUPERVISE)))


def keeps_network_tables(user, district: District) -> bool:
    return district is not None and district.pk in network_table_district_ids(user)


def keeps_meeting(user, meeting: NetworkMeeting) -> bool:
    return keeps_network_tables(user, meeting.district)
