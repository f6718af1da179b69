"""Observable indicators per area of concern, offered as a checklist on the referral form.

They help a teacher describe what they saw rather than what they suspect; the social team
reads the same list. Stored on the referral as codes; free-text indicators are kept as typed.
"""

from django.utils.translation import gettext_lazy as _

from .models import ConcernCategory as C

INDICATORS = {
    C.NEGLECT: [
        ("neglect.hungry", _("Often hungry, asks for food")),
        ("neglect.clothing", _("Clothing not suited to the weather")),
        ("neglect.hygiene", _("Poor personal hygiene")),
        ("neglect.health", _("Health needs not cared for (eyes, teeth, medicines)")),
        ("neglect.tired", _("Tired or sleepy in class")),
    ],
    C.PHYSICAL: [
        ("physical.injuries", _("Injuries that are unexplained or explained implausibly")),
        ("physical.pattern", _("Bruises or marks in unusual places or shapes")),
        ("physical.fear", _("Fear of going home or of an adult")),
    ],
    C.EMOTIONAL: [
        ("emotional.withdrawn", _("Withdrawn, sad, low self-esteem")),
        ("emotional.anxious", _("Anxious, startles easily")),
        ("emotional.belittled", _("Belittled or threatened by an adult in front of others")),
    ],
    C.SEXUAL: [
        ("sexual.knowledge", _("Sexual knowledge or behaviour unusual for the age")),
        ("sexual.pain", _("Pain or discomfort when sitting or walking")),
        ("sexual.secret", _("Talks about secrets with an adult")),
    ],
    C.DOMESTIC_VIOLENCE: [
        ("domestic.tells", _("Tells of fights or violence between adults at home")),
        ("domestic.afraid", _("Afraid when a family member arrives")),
        ("domestic.protects", _("Worries about protecting a parent or siblings")),
    ],
    C.BEHAVIOUR: [
        ("behaviour.aggressive", _("Aggressive outbursts")),
        ("behaviour.change", _("Sudden change in behaviour")),
        ("behaviour.selfharm", _("Self-harm or talk of hurting themselves")),
    ],
    C.ABSENTEEISM: [
        ("absent.frequent", _("Frequent unexplained absences")),
        ("absent.late", _("Often late or collected late")),
        ("absent.care", _("Kept at home to look after siblings or adults")),
    ],
    C.LEARNING: [
        ("learning.drop", _("Sudden drop in school results")),
        ("learning.difficulty", _("Persistent learning difficulties not yet assessed")),
    ],
    C.FAMILY_HARDSHIP: [
        ("hardship.money", _("Economic hardship (meals, materials, trips unpaid)")),
        ("hardship.housing", _("Housing problems or frequent moves")),
        ("hardship.illness", _("Illness or addiction of a parent")),
    ],
    C.CHILD_DISCLOSURE: [
        ("disclosure.told", _("The child told an adult at school")),
        ("disclosure.written", _("The child wrote or drew about it")),
    ],
}

LABELS = {code: label for items in INDICATORS.values() for code, label in items}


def urgency_guidance(*, protocol) -> dict[str, str]:
    """What each urgency level means, with the deadlines of `protocol` (selectors.protocol_for)."""
    config = protocol
    return {
        "routine": _("A worry with no immediate risk: the social team answers within %(n)s days.")
        % {"n": config.routine_days},
        "priority": _("Signs that repeat or get worse: the social team answers within %(n)s days.")
        % {"n": config.priority_days},
        "urgent": _("A serious situation that may soon harm the child: answer within %(n)s days.")
        % {"n": config.urgent_days},
        "immediate_danger": _(
            "The child is in danger now or cannot safely go home: call the emergency number "
            "first, then send this referral."
        ),
    }


def label(code: str) -> str:
    return str(LABELS.get(code, code))
