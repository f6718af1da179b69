"""Every grant and every permission check of the project. The only importer of guardian.shortcuts.

Grants are made to groups, one group per scope (a district's triage team, a district's
supervisors, a school's referents, a case team), so that guardian holds a handful of rows and
lists filter on indexed foreign keys (see casework.selectors) instead of per-record rows.
"""

from django.contrib.auth.models import Group, Permission
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from .models import Agency, Case, District, Membership

TRIAGE = "casework.triage_district"
SUPERVISE = "casework.supervise_district"
SCHOOL_VIEW = "casework.view_school_referrals"
SCHOOL_VALIDATE = "casework.validate_school_referrals"
CASE_WORK = "casework.work_case"
CASE_CLOSE = "casework.close_case"

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
    assign_perm(CASE_CLOSE, user, case)


def case_revoke_lead(*, case: Case, user) -> None:
    remove_perm(CASE_CLOSE, user, case)


def districts_for(user, perm: str = TRIAGE):
    """Districts where the user holds `perm` through a scope grant (never a global permission)."""
    return get_objects_for_user(user, perm, klass=District, accept_global_perms=False)


def schools_for(user, perm: str = SCHOOL_VIEW):
    return get_objects_for_user(user, perm, klass=Agency, accept_global_perms=False)


def cases_for(user, perm: str = CASE_WORK):
    return get_objects_for_user(user, perm, klass=Case, accept_global_perms=False)
