"""`manage.py benchmark --http`: the pages measured from outside, side by side with the floor.

gunicorn serves the project with casework.management.bench.settings (the product's settings,
DEBUG off, plus the floor's URL) on a free loopback port; the benchmark's social worker is
signed in with a session that has passed the second factor (a TOTP device of the benchmark's
data), and a teacher of another district creates and submits referrals with an API token.
The pages are taken in turn in every round, each by `clients` concurrent clients; the CPU per
request is what the gunicorn workers spent (/proc) divided by the requests answered."""

import json
import os
import random
import string
import tempfile
import time
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from casework import permissions
from casework.models import District, Membership

from . import load

FLOOR = "floor (bare view, same query)"
QUEUE = "triage queue page"
CASE = "case page"
API_REFERRALS = "GET /api/v1/referrals/"
API_QUEUE = "GET /api/v1/queue/"
VIEWFLOW = "Viewflow's own queue"
CREATE = "create + submit (teacher, API)"


def _session_cookie(user) -> str:
    """A signed-in session as the login and second-factor pages leave it (the device's id in
    the session: django_otp's OTPMiddleware verifies the user from it on each request)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from config.middleware import IDLE_KEY

    device = TOTPDevice.objects.filter(user=user, name="bench").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store[IDLE_KEY] = int(time.time())
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _viewflow_reader(worker):
    """Viewflow's own pages need its model permissions, which the project grants to nobody
    who works cases: the benchmark's worker gets the view permission of the two processes,
    in the benchmark's data only, so that Viewflow's queue can be measured beside ours."""
    for codename in ("view_referralprocess", "view_caseprocess"):
        permission = Permission.objects.filter(
            content_type__app_label="protocols", codename=codename
        ).first()
        if permission is not None:
            worker.user_permissions.add(permission)
    # Viewflow's queue lists a task to whoever holds its owner permission on its object,
    # read from guardian's generic tables (the project keeps its district grants in the
    # direct-key tables, which Viewflow does not read): the same grant, written where
    # Viewflow looks, for the worker's districts, in the benchmark's data only.
    from guardian.models import UserObjectPermission

    for district in District.objects.filter(pk__in=permissions.district_ids(worker)):
        if not UserObjectPermission.objects.filter(
            user=worker, permission__codename="triage_district", object_pk=str(district.pk)
        ).exists():
            UserObjectPermission.objects.create(
                user=worker,
                permission=Permission.objects.get(
                    content_type__app_label="casework", codename="triage_district"
                ),
                content_type=ContentType.objects.get_for_model(District),
                object_pk=str(district.pk),
            )


def _tasks_listed(worker) -> str:
    """How many tasks each queue lists to the worker: the comparison is fair when Viewflow's
    lists the waiting referrals the project's queue lists (Viewflow's omits the claimed)."""
    from viewflow.workflow.models import Task

    from casework import selectors
    from protocols.flows import ReferralFlow

    ours = selectors.triage_queue(worker).count()
    unclaimed = selectors.triage_queue(worker).filter(claimed_by__isnull=True).count()
    theirs = Task.objects.queue([ReferralFlow], worker).count()
    return (
        f"tasks listed to the worker: the queue page {ours} ({unclaimed} unclaimed), "
        f"Viewflow's own queue {theirs}"
    )


def _api_teacher(teacher):
    """A teacher of another district than the worker's (what they submit must not grow the
    worker's queue during the run), with an API token."""
    from knox.models import AuthToken

    worker_districts = set(
        Membership.objects.filter(user__username="bench-worker").values_list(
            "agency__district", flat=True
        )
    )
    other = (
        get_user_model()
        .objects.filter(
            username__startswith="bench-teacher-", memberships__role=Membership.Role.TEACHER
        )
        .exclude(memberships__agency__district__in=worker_districts)
        .order_by("pk")
        .first()
    )
    _token, key = AuthToken.objects.create(other or teacher)
    return f"Token {key}"


def _server_env(workers: int) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "casework.management.bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,  # the sessions were signed with it
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "BEHIND_HTTPS_PROXY": "1",  # the clients say X-Forwarded-Proto: https
            "API_THROTTLE_USER": "1000000/minute",  # a load, not an abuse: checked, not hit
            "PYTHONUNBUFFERED": "1",
        }
    )
    database = _database_url()
    if database:
        env["DATABASE_URL"] = database
    if len(env["SECRET_KEY"]) < 32:
        env["SECRET_KEY"] = env["SECRET_KEY"].ljust(32, "-")
    return env


def _database_url() -> str | None:
    """The database this process uses (a test run's test database too), for the server."""
    from urllib.parse import quote

    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = f"{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        return f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return f"sqlite:///{db['NAME']}"
    return None


def _queries(pages: dict) -> dict:
    """The queries of each page, in this process through the whole middleware stack (the
    server's connections are not visible from here)."""
    counted = {}
    worker = get_user_model().objects.get(username="bench-worker")
    overrides = {
        "ROOT_URLCONF": "casework.management.bench.urls",
        "ALLOWED_HOSTS": ["testserver"],
        "DEBUG": False,
        "TWO_FACTOR_ENFORCED": False,
    }
    with override_settings(**overrides):
        client = Client()
        client.force_login(worker)
        for name, path in pages.items():
            client.get(path, secure=True)
            with CaptureQueriesContext(connection) as captured:
                client.get(path, secure=True)
            counted[name] = len(captured)
            reset_queries()
    return counted


def _letters(rng, n=8) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n)).capitalize()


def run_http(
    command, *, worker, teacher, rounds, per_round, workers, clients, json_out, compare_with
):
    out = command.stdout.write
    case = command.real_case(worker, teacher)
    _viewflow_reader(worker)
    worker = get_user_model().objects.get(pk=worker.pk)  # without the cached permissions
    out(_tasks_listed(worker))
    worker = get_user_model().objects.get(pk=worker.pk)
    cookie = _session_cookie(worker)
    token = _api_teacher(teacher)
    referrals = _referral_count()
    base = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    signed_in = {**base, "Cookie": cookie}
    pages = {
        FLOOR: "/bench/floor/",
        QUEUE: "/casework/queue/",
        CASE: f"/casework/cases/{case.pk}/",
        API_REFERRALS: "/api/v1/referrals/",
        API_QUEUE: "/api/v1/queue/",
        VIEWFLOW: "/referral/queue/",
    }
    rng = random.Random(17)  # noqa: S311 - synthetic names

    def create_and_submit(conn):
        child = {"first_name": _letters(rng), "last_name": _letters(rng), "date_of_birth": (
            f"{rng.randrange(2010, 2020)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}"
        )}  # fmt: skip
        body = json.dumps(
            {
                "child": child,
                "concern_categories": ["neglect"],
                "observations": "synthetic",
                "urgency": "priority",
                "family_informed": True,
            }
        )
        headers = {**base, "Authorization": token, "Content-Type": "application/json"}
        status, data = load.request(
            0, "/api/v1/referrals/", headers, method="POST", body=body, connection=conn
        )
        if status != 201:
            return status, data
        pk = json.loads(data)["id"]
        return load.request(
            0, f"/api/v1/referrals/{pk}/submit/", headers, method="POST", connection=conn
        )

    log = Path(tempfile.gettempdir()) / f"bench-gunicorn-{os.getpid()}.log"
    samples = {name: [] for name in [*pages, CREATE]}
    with load.gunicorn(workers=workers, env=_server_env(workers), log=log) as server:
        out(
            f"\ngunicorn: {workers} workers on {load.HOST}:{server.port}, DEBUG off "
            f"(log: {log}); {clients} concurrent clients"
        )

        def getter(path):
            return lambda conn: load.request(0, path, signed_in, connection=conn)

        for name, path in list(pages.items()):
            status, _body = load.request(server.port, path, signed_in)
            if status != 200:
                out(f"{name}: {path} answered {status}, left out")
                del pages[name]
        status, data = create_and_submit(load.connect(server.port))
        creating = status == 200
        if not creating:
            out(f"{CREATE}: answered {status} ({data[:200]!r}), left out")
        # Warm-up: every worker imports, connects and fills its caches once for each page.
        for path in pages.values():
            load.drive(server, getter(path), total=workers * 3, clients=clients)
        for _round in range(rounds):
            for name, path in pages.items():
                samples[name].append(
                    load.drive(server, getter(path), total=per_round, clients=clients)
                )
            if creating:
                samples[CREATE].append(
                    load.drive(
                        server, create_and_submit, total=max(2, per_round // 3), clients=clients
                    )
                )
    queries = _queries({name: pages[name] for name in pages if name != VIEWFLOW})
    sweep_ms, sweep_statements, open_cases, _runs = command.sweeps_measured()
    results = _summarise(samples)
    report = {
        "referrals": referrals,
        "vendor": connection.vendor,
        "workers": workers,
        "clients": clients,
        "rounds": rounds,
        "requests": per_round,
        "pages": results,
        "queries": queries,
        "sweep": {"ms": sweep_ms, "statements": sweep_statements, "open_cases": open_cases},
    }
    _print(out, report, rounds, per_round)
    other = json.loads(Path(compare_with).read_text()) if compare_with else None
    _targets(out, report, other)
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))
        out(f"\nfigures written to {json_out}")
    return report


def _referral_count() -> int:
    from casework.models import Referral

    return Referral.objects.count()


def _summarise(samples) -> dict:
    results = {}
    for name, batches in samples.items():
        latencies = [x for b in batches for x in b.latencies]
        if not latencies:
            continue
        answered = len(latencies)
        wall = sum(b.wall for b in batches)
        statuses = {}
        for b in batches:
            for status, n in b.statuses.items():
                statuses[str(status)] = statuses.get(str(status), 0) + n
        results[name] = {
            "requests": answered,
            "errors": sum(b.errors for b in batches),
            "statuses": statuses,
            "rps": answered / wall if wall else 0.0,
            "p50_ms": load.percentile(latencies, 0.50) * 1000,
            "p95_ms": load.percentile(latencies, 0.95) * 1000,
            "p99_ms": load.percentile(latencies, 0.99) * 1000,
            "cpu_ms": sum(b.cpu for b in batches) / answered * 1000,
        }
    return results


def _print(out, report, rounds, per_round):
    pages = report["pages"]
    out(
        f"\npages over HTTP ({report['referrals']} referrals, {report['vendor']}, {rounds} "
        f"interleaved rounds x {per_round} requests, {report['clients']} clients, "
        f"{report['workers']} gunicorn workers; CPU/req = the workers' CPU)"
    )
    out(
        f"{'page':32s} {'req/s':>7s} {'p50':>8s} {'p95':>8s} {'p99':>8s} "
        f"{'CPU/req':>8s} {'queries':>7s} {'x floor':>7s}  answers"
    )
    floor = pages.get(FLOOR, {}).get("rps")
    for name, row in pages.items():
        ratio = f"{row['rps'] / floor:7.2f}" if floor else "      -"
        queries = report["queries"].get(name)
        out(
            f"{name:32s} {row['rps']:7.1f} {row['p50_ms']:6.1f}ms {row['p95_ms']:6.1f}ms "
            f"{row['p99_ms']:6.1f}ms {row['cpu_ms']:6.1f}ms "
            f"{'-' if queries is None else queries:>7} {ratio}  {row['statuses']}"
            + (f" ({row['errors']} errors)" if row["errors"] else "")
        )
    sweep = report["sweep"]
    out(
        f"\nreminder sweeps with nothing due ({sweep['open_cases']} open cases): "
        f"{sweep['ms']:.1f} ms, {sweep['statements']} statements"
    )


def _targets(out, report, other):
    """Every target of issue 17 with the figure measured in this run, met or not."""
    pages, queries = report["pages"], report["queries"]

    def rps(name):
        return pages.get(name, {}).get("rps")

    def ratio(a, b):
        return rps(a) / rps(b) if rps(a) and rps(b) else None

    rows = [
        ("queue page >= 0.7 x floor (req/s)", ratio(QUEUE, FLOOR), 0.7, ">="),
        ("queue page >= 5 x Viewflow's own queue (req/s)", ratio(QUEUE, VIEWFLOW), 5.0, ">="),
        ("case page >= 0.5 x floor (req/s)", ratio(CASE, FLOOR), 0.5, ">="),
        ("GET /api/v1/referrals/ >= 0.5 x floor (req/s)", ratio(API_REFERRALS, FLOOR), 0.5, ">="),
        ("queue page <= 8 queries", queries.get(QUEUE), 8, "<="),
        ("case page <= 12 queries", queries.get(CASE), 12, "<="),
        ("GET /api/v1/referrals/ <= 8 queries", queries.get(API_REFERRALS), 8, "<="),
        ("GET /api/v1/queue/ <= 8 queries", queries.get(API_QUEUE), 8, "<="),
        ("sweep, nothing due <= 100 ms", report["sweep"]["ms"], 100, "<="),
        ("sweep, nothing due <= 50 statements", report["sweep"]["statements"], 50, "<="),
        ("create + submit p95 <= 100 ms", pages.get(CREATE, {}).get("p95_ms"), 100, "<="),
    ]
    if other and other.get("pages", {}).get(QUEUE) and pages.get(QUEUE):
        small, large = sorted([report, other], key=lambda r: r["referrals"])
        rows.append(
            (
                f"queue p95 at {large['referrals']} <= 1.3 x p95 at {small['referrals']}",
                large["pages"][QUEUE]["p95_ms"] / small["pages"][QUEUE]["p95_ms"],
                1.3,
                "<=",
            )
        )
    else:
        rows.append(("queue p95 at 100k <= 1.3 x p95 at 1k", None, 1.3, "<="))
    out("\ntargets (issue 17)")
    for label, value, bound, sense in rows:
        if value is None:
            verdict, shown = "not measured", "-"
        else:
            met = value >= bound if sense == ">=" else value <= bound
            verdict = "met" if met else "NOT met"
            shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        out(f"  {label:52s} {shown:>9s}  {verdict}")
    if not other:
        out("  (the 100k/1k comparison needs --compare-with a --json file of the other size)")
