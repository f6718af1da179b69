"""The domain of the signalling protocol: who refers whom, to which district, and what follows.

Every model that holds case data keeps a full history (django-simple-history). Changes are made
by `casework.services`, which sets the actor and a dotted reason code on each save.

One module per aggregate; every public name is re-exported here, so `casework.models.X` is the
one address to import from (migrations name `casework.models.attachment_path`).
"""

from .audit import AccessLog, AppendOnlyError, AuditedModel, AuditedQuerySet, TrailUnlock
from .cases import (
    Action,
    Attachment,
    Case,
    CasePlan,
    CaseTeamMember,
    Note,
    Review,
    RiskLevel,
    attachment_path,
)
from .children import Child, Guardian
from .clients import ApiClient
from .consent import (
    RECTIFIABLE,
    Consent,
    ConsentPurpose,
    FamilyInformation,
    HowObtained,
    LegalBasis,
    Objection,
    RectificationRequest,
    Sharing,
    SubjectAccessRequest,
)
from .directory import Contact, HelplineHours, Referent, Service
from .grants import (
    AgencyGroupObjectPermission,
    AgencyUserObjectPermission,
    CaseGroupObjectPermission,
    CaseUserObjectPermission,
    DistrictGroupObjectPermission,
    DistrictUserObjectPermission,
)
from .handovers import HandOver
from .mailing import (
    DEFAULT_CATEGORIES,
    Mailing,
    MailingCategory,
    MailingDelivery,
    Subscriber,
    SubscriberEvent,
)
from .organisation import Agency, District, Membership, ProtocolSettings
from .outbox import Notification
from .prevention import (
    AgeBand,
    Consultation,
    ConsultationMessage,
    MeetingAction,
    NetworkMeeting,
    PatternAlert,
)
from .protocol import Municipality, ProtocolVersion
from .referrals import (
    URGENCY_RANK,
    ConcernCategory,
    InformationRequest,
    Referral,
    Urgency,
)
from .retention import LegalHold, PurgeRecord, RetainedFigure
from .sessions import UserSession
from .transfers import CaseTransfer

__all__ = [
    "AgeBand",
    "Consultation",
    "ConsultationMessage",
    "MeetingAction",
    "NetworkMeeting",
    "PatternAlert",
    "RECTIFIABLE",
    "Consent",
    "ConsentPurpose",
    "FamilyInformation",
    "HowObtained",
    "LegalBasis",
    "Objection",
    "RectificationRequest",
    "Sharing",
    "SubjectAccessRequest",
    "ApiClient",
    "DEFAULT_CATEGORIES",
    "Mailing",
    "MailingCategory",
    "MailingDelivery",
    "Subscriber",
    "SubscriberEvent",
    "URGENCY_RANK",
    "AccessLog",
    "TrailUnlock",
    "Action",
    "Agency",
    "AgencyGroupObjectPermission",
    "AgencyUserObjectPermission",
    "AppendOnlyError",
    "Attachment",
    "AuditedModel",
    "AuditedQuerySet",
    "Case",
    "CaseGroupObjectPermission",
    "CasePlan",
    "CaseTeamMember",
    "CaseTransfer",
    "CaseUserObjectPermission",
    "Child",
    "ConcernCategory",
    "Contact",
    "HelplineHours",
    "District",
    "DistrictGroupObjectPermission",
    "DistrictUserObjectPermission",
    "Guardian",
    "HandOver",
    "InformationRequest",
    "LegalHold",
    "PurgeRecord",
    "RetainedFigure",
    "Membership",
    "Note",
    "Notification",
    "Municipality",
    "ProtocolSettings",
    "ProtocolVersion",
    "Referral",
    "Review",
    "RiskLevel",
    "Referent",
    "Service",
    "UserSession",
    "Urgency",
    "attachment_path",
]
