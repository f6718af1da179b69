"""The whole protocol driven through a client generated from the API's own schema, the way an
agency's developer would build one: `manage.py spectacular` writes the schema, openapi-python-client
generates a typed Python package from it, and the test talks to a live server with nothing but
that package's functions and models. Where the generated client cannot say something (a field
of the wrong type, a null the schema does not allow, an answer it cannot parse), the schema is
wrong, not the client: fix the schema (casework/api/), never the generated code.

    .venv/bin/python -m pytest -m generated_client tests/protocols/test_api_generated_client.py
"""

import datetime
import importlib
import io
import sys
import time

import pytest
from django.core.management import call_command
from django.utils import timezone
from knox.models import AuthToken

from casework.models import Case, Referral
from tests.protocols.conftest import CHILD, FORM

PACKAGE = "casework_generated_client"

pytestmark = [
    pytest.mark.generated_client,
    pytest.mark.django_db(transaction=True),
    # The live server closes its request threads' connections as the test ends.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported; generated once for the module."""
    from openapi_python_client import generate
    from openapi_python_client.config import Config, ConfigFile, MetaType

    folder = tmp_path_factory.mktemp("generated")
    schema = folder / "schema.json"
    started = time.perf_counter()
    call_command(
        "spectacular", "--lang", "en", "--format", "openapi-json", "--file", str(schema),
        "--validate", "--fail-on-warn",
    )  # fmt: skip
    config = Config.from_sources(
        # No post hooks: the code is imported, not read, so it need not be formatted.
        ConfigFile(post_hooks=[]),
        MetaType.NONE,
        schema,
        "utf-8",
        overwrite=True,
        output_path=folder / PACKAGE,
    )
    problems = generate(config=config)
    # Anything the generator could not turn into code (an operation or a model left out)
    # is a defect of the schema.
    assert [f"{problem.header}: {problem.detail}" for problem in problems] == []
    sys.stderr.write(f"\nclient generated in {time.perf_counter() - started:.1f} s\n")
    sys.path.insert(0, str(folder))
    try:
        yield Generated(importlib.import_module(PACKAGE))
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


class Generated:
    """The generated package: `op("v1_referrals_create")` is an operation's module,
    `models.X` a model, `client(key)` a signed-in client."""

    def __init__(self, package):
        self.package = package
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        self.base_url = None

    def op(self, name):
        return importlib.import_module(f"{PACKAGE}.api.v1.{name}")

    def client(self, key):
        return self.package.AuthenticatedClient(
            base_url=self.base_url,
            token=key,
            prefix="Token",
            headers={"Accept-Language": "en"},
            raise_on_unexpected_status=True,
        )


@pytest.fixture
def gen(generated, live_server):
    generated.base_url = live_server.url
    return generated


@pytest.fixture
def signed_in(gen):
    """signed_in(user) → a generated client holding a personal token of that user."""

    clients = []

    def make(user):
        _token, key = AuthToken.objects.create(user=user)
        clients.append(gen.client(key))
        return clients[-1]

    yield make
    for client in clients:
        client.get_httpx_client().close()


def call(gen, name, *args, expect, **kwargs):
    """Calls the operation; the status must be `expect`; answers the parsed model."""
    response = gen.op(name).sync_detailed(*args, **kwargs)
    assert response.status_code == expect, (name, response.status_code, response.content[:500])
    return response.parsed


def test_the_whole_protocol_through_the_generated_client(
    gen, signed_in, teacher, triage_worker, supervisor, psychologist, health_north
):
    m = gen.models
    school, worker, boss, health = (
        signed_in(user) for user in (teacher, triage_worker, supervisor, psychologist)
    )

    def referral_body(observations):
        child = m.ChildInput(
            first_name=CHILD["first_name"],
            last_name=CHILD["last_name"],
            date_of_birth=datetime.date.fromisoformat(CHILD["date_of_birth"]),
            school_class=CHILD["school_class"],
            guardians=[m.GuardianInput.from_dict(guardian) for guardian in CHILD["guardians"]],
        )
        return m.ReferralCreate(
            child=child,
            concern_categories=[m.ConcernCategoriesEnum(c) for c in FORM["concern_categories"]],
            indicators=FORM["indicators"],
            observations=observations,
            urgency=m.UrgencyEnum(FORM["urgency"]),
            family_informed=True,
            family_response=FORM["family_response"],
        )

    # The teacher writes a draft, attaches a document, submits it.
    draft = call(
        gen, "v1_referrals_create", client=school, body=referral_body("  Often hungry.\n"),
        idempotency_key="register-0001", expect=201,
    )  # fmt: skip
    assert isinstance(draft, m.ReferralForReferrer)
    assert draft.status == m.ReferralStatusEnum.DRAFT
    assert draft.observations == "  Often hungry.\n"  # kept exactly as sent
    upload = m.AttachmentInput(
        title="School report",
        file=gen.types.File(
            payload=io.BytesIO(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
            file_name="report.pdf",
            mime_type="application/pdf",
        ),
    )
    document = call(
        gen, "v1_referrals_attachments_create", draft.id, client=school, body=upload, expect=201
    )
    assert isinstance(document, m.AttachmentOut) and document.content_type == "application/pdf"
    listed = call(gen, "v1_referrals_attachments_list", draft.id, client=school, expect=200)
    assert [row.id for row in listed.results] == [document.id]
    submitted = call(gen, "v1_referrals_submit_create", draft.id, client=school, expect=200)
    assert submitted.status == m.ReferralStatusEnum.SUBMITTED

    # A step the referral's state does not allow: deleting it once sent is a 409, parsed as
    # the documented error model (its `detail` says why), and nothing changes.
    refused = call(gen, "v1_referrals_delete_create", draft.id, client=school, expect=409)
    assert isinstance(refused.detail, str) and refused.detail
    assert Referral.objects.get(pk=draft.id).status == Referral.Status.SUBMITTED

    # Triage: the queue shows it; claim; open a case led by the worker.
    queue = call(gen, "v1_queue_list", client=worker, expect=200)
    assert [item.id for item in queue.results] == [draft.id]
    claimed = call(gen, "v1_referrals_claim_create", draft.id, client=worker, expect=200)
    assert claimed.status == m.ReferralStatusEnum.IN_TRIAGE
    decided = call(
        gen, "v1_referrals_decision_create", draft.id, client=worker,
        body=m.DecisionInput(
            decision=m.ReferralDecisionEnum.OPEN_CASE, risk_level=m.RiskLevelEnum.HIGH,
            feedback="We will contact the family this week.",
        ),
        expect=200,
    )  # fmt: skip
    assert decided.status == m.ReferralStatusEnum.CASE_OPENED
    case_id = decided.case.id

    # The lead: the plan, a professional of the health agency on the team with the legal
    # basis that allows sharing the file with them, found through the case's candidates.
    case = call(
        gen, "v1_cases_plan_create", case_id, client=worker,
        body=m.PlanInput(objectives="Regular meals; a check-up."), expect=200,
    )  # fmt: skip
    assert isinstance(case, m.CaseDetail)
    candidates = call(gen, "v1_cases_candidates_retrieve", case_id, client=worker, expect=200)
    assert psychologist.pk in [person.id for person in candidates.team]
    assert health_north.pk in [agency.id for agency in candidates.agencies]
    member = call(
        gen, "v1_cases_team_create", case_id, client=worker,
        body=m.TeamMemberInput(
            user=psychologist.pk, agency=health_north.pk, role=m.RoleEnum.PSYCHOLOGIST,
            reason="Assessment of the child's wellbeing",
            legal_basis=m.LegalBasisEnum.PUBLIC_TASK,
            basis_explanation="The child-protection task of the district.",
        ),
        expect=201,
    )  # fmt: skip
    assert isinstance(member, m.TeamMemberOut)

    # An action owned by the psychologist, and its progress.
    action = call(
        gen, "v1_cases_actions_create", case_id, client=health,
        body=m.ActionInput(
            objective="Psychological assessment", owning_agency=health_north.pk,
            owner=psychologist.pk, due_date=datetime.date(2030, 1, 31),
        ),
        expect=201,
    )  # fmt: skip
    progressed = call(
        gen, "v1_cases_actions_partial_update", case_id, action.id, client=health,
        body=m.PatchedActionUpdateInput(
            status=m.ActionStatusEnum.IN_PROGRESS, progress_note="First meeting held."
        ),
        expect=200,
    )  # fmt: skip
    assert progressed.status == m.ActionStatusEnum.IN_PROGRESS

    # A periodic review before it is due: 409 (the state does not allow it); an
    # extraordinary review, with its reason, is taken.
    early = call(
        gen, "v1_cases_reviews_create", case_id, client=worker,
        body=m.ReviewInput(risk_level=m.RiskLevelEnum.MEDIUM,
                           decision=m.ReviewDecisionEnum.CONTINUE),
        expect=409,
    )  # fmt: skip
    assert early.detail
    review = call(
        gen, "v1_cases_reviews_create", case_id, client=worker,
        body=m.ReviewInput(
            risk_level=m.RiskLevelEnum.MEDIUM, decision=m.ReviewDecisionEnum.CONTINUE,
            kind=m.ReviewKindEnum.EXTRAORDINARY, reason="The school reports a change.",
            attendees="Lead worker, psychologist",
            progress=m.ReviewInputProgress.from_dict({str(action.id): "Assessment begun."}),
        ),
        expect=201,
    )  # fmt: skip
    assert isinstance(review, m.ReviewOut)

    # The case as the team reads it, with its trail, its readers, a note; the psychologist
    # leaves the team once the assessment is handed in.
    file = call(gen, "v1_cases_retrieve", case_id, client=worker, expect=200)
    assert isinstance(file, m.CaseDetail)
    assert {row.user for row in file.team} >= {psychologist.username}
    listed = call(gen, "v1_cases_list", client=worker, status=m.CaseStatusEnum.OPEN, expect=200)
    assert [row.id for row in listed.results] == [case_id]
    note = call(
        gen, "v1_cases_notes_create", case_id, client=worker,
        body=m.NoteInput(body="Called the mother.\n"), expect=201,
    )  # fmt: skip
    notes = call(gen, "v1_cases_notes_list", case_id, client=worker, page_size=10, expect=200)
    assert [row.id for row in notes.results] == [note.id]
    trail = call(gen, "v1_cases_history_list", case_id, client=worker, expect=200)
    assert "casework.case.opened" in [row.reason for row in trail.results]
    readers = call(gen, "v1_cases_access_list", case_id, client=worker, expect=200)
    assert readers.results
    left = [row for row in file.team if row.user == psychologist.username]
    call(gen, "v1_cases_team_destroy", case_id, left[0].id, client=worker, expect=204)

    # Closure: proposed by the lead at a review, brought forward to today; decided by the
    # supervisor.
    forward = call(
        gen, "v1_cases_reviews_forward_create", case_id, client=worker,
        body=m.BringForwardInput(review_on=timezone.localdate()), expect=200,
    )  # fmt: skip
    assert forward.review_due is True
    proposed = call(
        gen, "v1_cases_close_create", case_id, client=worker,
        body=m.CloseInput(reason="Meals are regular now."), expect=200,
    )  # fmt: skip
    assert proposed.status == m.CaseStatusEnum.CLOSURE_REQUESTED
    own = call(gen, "v1_cases_close_create", case_id, client=worker, body=m.CloseInput(),
               expect=409)  # fmt: skip
    assert own.detail
    closed = call(
        gen, "v1_cases_close_create", case_id, client=boss, body=m.CloseInput(approve=True),
        expect=200,
    )  # fmt: skip
    assert closed.status == m.CaseStatusEnum.CLOSED
    assert Case.objects.get(pk=case_id).closure_approved_by == supervisor

    # The school reads the outcome: the feedback, the contact person, the closing message.
    seen = call(gen, "v1_referrals_retrieve", draft.id, client=school, expect=200)
    assert isinstance(seen, m.ReferralForReferrer)
    assert seen.feedback == "We will contact the family this week."
    assert seen.contact_person == triage_worker.username
    assert seen.closing_message
    notices = call(gen, "v1_notifications_list", client=school, expect=200)
    assert "feedback" in [row.kind for row in notices.results]
    mine = call(gen, "v1_referrals_list", client=school, expect=200)
    assert [row.id for row in mine.results] == [draft.id]

    # A second referral: triage asks for more information, the teacher answers.
    second = call(
        gen, "v1_referrals_create", client=school, body=referral_body("Bruises on Monday."),
        expect=201,
    )  # fmt: skip
    call(gen, "v1_referrals_submit_create", second.id, client=school, expect=200)
    call(gen, "v1_referrals_claim_create", second.id, client=worker, expect=200)
    asked = call(
        gen, "v1_referrals_decision_create", second.id, client=worker,
        body=m.DecisionInput(decision=m.ReferralDecisionEnum.REQUEST_INFORMATION,
                             question="Since when?"),
        expect=200,
    )  # fmt: skip
    assert asked.status == m.ReferralStatusEnum.INFORMATION_REQUESTED
    waiting = call(gen, "v1_referrals_retrieve", second.id, client=school, expect=200)
    assert [request.question for request in waiting.information_requests] == ["Since when?"]
    answered = call(
        gen, "v1_referrals_information_create", second.id, client=school,
        body=m.AnswerInput(answer="Since September."), expect=200,
    )  # fmt: skip
    assert answered.information_requests[-1].answer == "Since September."
    # Answering again, with nothing asked: 409 in the documented error model.
    again = call(
        gen, "v1_referrals_information_create", second.id, client=school,
        body=m.AnswerInput(answer="More."), expect=409,
    )  # fmt: skip
    assert again.detail
    assert Referral.objects.get(pk=second.id).status == Referral.Status.IN_TRIAGE
