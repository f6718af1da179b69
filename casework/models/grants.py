"""Object permissions for django-guardian.

They live in direct-foreign-key tables, granted to groups for whole scopes.
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .cases import Case
from .organisation import Agency, District


class DistrictUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class DistrictGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(District, on_delete=models.CASCADE)


class AgencyUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


class AgencyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Agency, on_delete=models.CASCADE)


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
