"""Agency systems' OAuth2 clients (docs/api.md, "An agency system signs in"): create one for
an agency, list them, retire one. The secret is printed once, when the client is created."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from casework import services
from casework.models import Agency, ApiClient, Membership


class Command(BaseCommand):
    help = (
        "OAuth2 client credentials for an agency's system: "
        "`create --agency ID --role ROLE --name NAME [--write]`, `list`, `retire CLIENT_ID`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="a new client; prints its id and secret once")
        create.add_argument("--agency", type=int, required=True, help="the agency's id")
        create.add_argument(
            "--role",
            required=True,
            choices=Membership.Role.values,
            help="what the system may do in the agency, as a person in this role",
        )
        create.add_argument("--name", required=True, help="the system, e.g. 'School register'")
        create.add_argument(
            "--write", action="store_true", help="allow the write scope (default: read only)"
        )
        sub.add_parser("list", help="every client, active or retired")
        retire = sub.add_parser("retire", help="switch a client off: its tokens stop at once")
        retire.add_argument("client_id")

    def handle(self, *args, verb, **options):
        getattr(self, f"_{verb}")(**options)

    def _create(self, *, agency, role, name, write, **_options):
        try:
            agency = Agency.objects.get(pk=agency)
        except Agency.DoesNotExist:
            raise CommandError(f"No agency with id {agency}.") from None
        scopes = ["read", "write"] if write else ["read"]
        try:
            client, secret = services.api_client_create(
                actor=None, agency=agency, name=name, role=role, scopes=scopes
            )
        except ValidationError as refused:
            raise CommandError("; ".join(refused.messages)) from None
        self.stdout.write(f"agency:        {agency} (id {agency.pk})")
        self.stdout.write(f"service user:  {client.service_user.username} ({role})")
        self.stdout.write(f"scopes:        {client.scopes}")
        self.stdout.write(f"client id:     {client.application.client_id}")
        self.stdout.write(f"client secret: {secret}")
        self.stdout.write("The secret is shown only now: give it to the system's administrator.")

    def _list(self, **_options):
        clients = ApiClient.objects.select_related("application", "agency", "service_user")
        for client in clients.order_by("pk"):
            state = "active" if client.active else "retired"
            self.stdout.write(
                f"{client.application.client_id}  {state:7}  {client.scopes:10}  "
                f"{client.agency} · {client.application.name} ({client.service_user.username})"
            )

    def _retire(self, *, client_id, **_options):
        client = ApiClient.objects.filter(application__client_id=client_id).first()
        if client is None:
            raise CommandError(f"No API client {client_id}.")
        try:
            services.api_client_retire(actor=None, client=client)
        except services.TransitionNotAllowed as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Retired {client}: its tokens no longer work.")
