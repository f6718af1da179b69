"""Agency systems' API clients (OAuth2 client credentials): created for an agency with a role
and scopes, retired when the system is switched off."""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, Application, RefreshToken

from ..models import Agency, ApiClient, Membership
from ..models.clients import SCOPES
from .common import TransitionNotAllowed, audited_save
from .organisation import membership_create, membership_deactivate


def _service_username(agency: Agency, name: str) -> str:
    base = f"api.{agency.pk}.{slugify(name)[:60] or 'client'}"
    username, n = base, 1
    users = get_user_model().objects
    while users.filter(username=username).exists():
        n += 1
        username = f"{base}.{n}"
    return username


@transaction.atomic
def api_client_create(
    *, actor: object | None, agency: Agency, name: str, role: str, scopes: list[str]
) -> tuple[ApiClient, str]:
    """An OAuth2 client for an agency's system: a service user with `role` in `agency` (it
    sees and does what a person in that role would), an application allowed the client
    credentials grant, and the scopes its tokens may carry. Returns the client and its secret,
    which is stored only as a hash: shown once, never again."""
    if not name.strip():
        raise ValidationError({"name": [_("Give the system a name.")]})
    if role not in Membership.Role.values:
        raise ValidationError({"role": [_("Not a role: %(role)s.") % {"role": role}]})
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or "read" not in scopes:
        raise ValidationError({"scopes": [_("Give read, or read and write.")]})
    user = get_user_model()(
        username=_service_username(agency, name), first_name=name[:150], is_active=True
    )
    user.set_unusable_password()  # a system: it never signs in to the pages
    user.full_clean()
    user.save()
    membership_create(actor=actor, user=user, agency=agency, role=role)
    secret = secrets.token_urlsafe(40)
    application = Application(
        name=name[:255],
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,  # hashed on save
        hash_client_secret=True,
    )
    application.save()
    client = ApiClient(
        application=application,
        service_user=user,
        agency=agency,
        scopes=" ".join(s for s in SCOPES if s in scopes),
    )
    audited_save(client, actor=actor, reason="casework.api_client.created")
    return client, secret


@transaction.atomic
def api_client_retire(*, actor: object | None, client: ApiClient) -> ApiClient:
    """Switch a client off: its tokens stop working at once, no new one is issued, its
    service user loses its memberships and cannot act."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if not client.active:
        raise TransitionNotAllowed(_("This API client is already retired."))
    client.active = False
    audited_save(client, actor=actor, reason="casework.api_client.retired")
    AccessToken.objects.filter(application=client.application).delete()
    RefreshToken.objects.filter(application=client.application).delete()
    for membership in Membership.objects.filter(user=client.service_user, active=True):
        membership_deactivate(actor=actor, membership=membership)
    user = client.service_user
    user.is_active = False
    user.save(update_fields=["is_active"])
    return client
