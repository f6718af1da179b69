"""Measure the lists that grow: the triage queue, a teacher's referrals, a supervisor's cases.

Fills an EMPTY database with synthetic referrals (bulk inserts, no history: this is load, not
case data), then times the selectors the pages and the API use. With `--pages` it then
requests the pages themselves through the whole middleware stack, side by side with a floor
(a bare view in this module: the same session middleware, the same indexed queue query, 50
rows, no template), in interleaved rounds, and prints each page's throughput, latency, CPU
per request and queries as a ratio to the floor's. See docs/performance.md.
"""

import logging
import random
import statistics
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from casework import selectors, services
from casework.management.bench.viewflow_rows import write_referral_processes
from casework.models import Agency, Case, Child, District, Membership, Referral, Urgency


class Command(BaseCommand):
    help = "Fill an empty database with synthetic referrals and time the growing lists."

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=100_000)
        parser.add_argument("--districts", type=int, default=10)
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument(
            "--pages", action="store_true", help="also request the pages, side by side"
        )
        parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (pages)")
        parser.add_argument(
            "--reuse", action="store_true", help="measure again the data an earlier run loaded"
        )
        parser.add_argument("--requests", type=int, default=30, help="per page and round")
        parser.add_argument(
            "--http",
            action="store_true",
            help="measure the pages over HTTP: gunicorn, concurrent clients, workers' CPU",
        )
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (--http)")
        parser.add_argument("--clients", type=int, default=4, help="concurrent clients (--http)")
        parser.add_argument(
            "--json", dest="json_out", help="write the --http figures to this file (JSON)"
        )
        parser.add_argument(
            "--compare-with",
            help="a --json file of a run at another size: prints p95 at the larger size / "
            "p95 at the smaller (target: <= 1.3)",
        )

    def handle(self, *args, referrals, districts, repeat, pages, rounds, requests, **options):
        if options["http"] and repeat == 20:
            repeat = 5  # the selectors' timings are a side dish of the HTTP run
        logging.disable(logging.INFO)  # one line per notification delivered would drown the figures
        if options["reuse"]:
            users = get_user_model().objects.all()
            people = [
                users.get(username=name)
                for name in ("bench-worker", "bench-teacher-0", "bench-supervisor")
            ]
            self.stdout.write(f"measuring the {Referral.objects.count()} referrals loaded before")
        elif Referral.objects.exists():
            raise CommandError("The benchmark needs an empty database (it adds synthetic data).")
        else:
            started = time.perf_counter()
            people = self._fill(referrals, districts)
            self.stdout.write(
                f"filled {referrals} referrals in {districts} districts "
                f"({time.perf_counter() - started:.1f} s, {connection.vendor})"
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
        worker, teacher, supervisor = people
        checks = {
            "triage queue, first page of 50": lambda: list(selectors.triage_queue(worker)[:50]),
            "queue count": lambda: selectors.triage_queue(worker).count(),
            "teacher's referrals, first 50": lambda: selectors.referrals_visible_page(teacher),
            "worker's visible referrals, first 50": lambda: selectors.referrals_visible_page(
                worker
            ),
            "supervisor's cases, first 50": lambda: list(
                selectors.cases_visible_to(supervisor).order_by("next_review_at")[:50]
            ),
        }
        for name, check in checks.items():
            check()  # warm the caches
            timings = []
            for _ in range(repeat):
                begin = time.perf_counter()
                check()
                timings.append((time.perf_counter() - begin) * 1000)
            tracemalloc.start()
            check()
            peak = tracemalloc.get_traced_memory()[1] / 1024
            tracemalloc.stop()
            self.stdout.write(
                f"{name:40s} median {statistics.median(timings):7.2f} ms   "
                f"p95 {sorted(timings)[int(len(timings) * 0.95) - 1]:7.2f} ms   "
                f"peak {peak:7.0f} KiB"
            )
        if pages:
            self._pages(worker, teacher, rounds, requests)
        if options["http"]:
            from casework.management.bench.run import run_http

            run_http(
                self,
                worker=worker,
                teacher=teacher,
                rounds=rounds,
                per_round=requests,
                workers=options["workers"],
                clients=options["clients"],
                json_out=options["json_out"],
                compare_with=options["compare_with"],
            )

    def _pages(self, worker, teacher, rounds, per_round):
        """Each page requested `per_round` times per round, the pages taken in turn in every
        round (so that a busy moment of the machine falls on all of them), one client."""
        from django.conf import settings as django_settings

        if django_settings.DEBUG:
            self.stdout.write(
                "DEBUG is on: templates are parsed again at every request and every query is "
                "kept; run with DEBUG=0 (and SECRET_KEY, ALLOWED_HOSTS) for figures that count."
            )
        case = self.real_case(worker, teacher)
        pages = {
            "floor (bare view, same query)": "/bench/floor/",
            "triage queue page": "/casework/queue/",
            "case page": f"/casework/cases/{case.pk}/",
            "GET /api/v1/referrals/": "/api/v1/referrals/",
            "GET /api/v1/queue/": "/api/v1/queue/",
            "Viewflow's own queue": "/referral/queue/",
        }
        settings = {
            "ROOT_URLCONF": "casework.management.bench.urls",
            "ALLOWED_HOSTS": ["testserver"],
            "DEBUG": False,
            "TWO_FACTOR_ENFORCED": False,
        }
        with override_settings(**settings):
            client = Client()
            client.force_login(worker)
            for name, url in list(pages.items()):
                status = client.get(url, secure=True).status_code
                if status != 200:
                    self.stdout.write(f"{name}: {url} answered {status}, left out")
                    del pages[name]
            samples = {name: {"wall": [], "cpu": []} for name in pages}
            queries = {}
            for _round in range(rounds):
                for name, url in pages.items():
                    for _ in range(per_round):
                        wall, cpu = time.perf_counter(), time.process_time()
                        client.get(url, secure=True)
                        samples[name]["wall"].append(time.perf_counter() - wall)
                        samples[name]["cpu"].append(time.process_time() - cpu)
            for name, url in pages.items():
                with CaptureQueriesContext(connection) as captured:
                    client.get(url, secure=True)
                queries[name] = len(captured)
                reset_queries()
        self.stdout.write(
            f"\npages ({rounds} interleaved rounds x {per_round} requests, one client, "
            f"{connection.vendor})"
        )
        self.stdout.write(
            f"{'page':32s} {'req/s':>7s} {'p50':>8s} {'p95':>8s} {'p99':>8s} "
            f"{'CPU/req':>8s} {'queries':>7s} {'x floor':>7s}"
        )
        floor = None
        for name in pages:
            wall = sorted(samples[name]["wall"])
            rate = len(wall) / sum(wall)
            floor = floor or rate
            pick = lambda q, w=wall: w[min(len(w) - 1, int(len(w) * q))] * 1000  # noqa: E731
            cpu = statistics.mean(samples[name]["cpu"]) * 1000
            self.stdout.write(
                f"{name:32s} {rate:7.1f} {pick(0.5):6.1f}ms {pick(0.95):6.1f}ms "
                f"{pick(0.99):6.1f}ms {cpu:6.1f}ms {queries[name]:7d} {rate / floor:7.2f}"
            )
        spent, statements, open_cases, catch_up = self.sweeps_measured()
        self.stdout.write(
            f"\nreminder sweeps with nothing due ({open_cases} open cases, caught up in "
            f"{catch_up} runs): {spent:.1f} ms, {statements} statements"
        )

    def sweeps_measured(self):
        """The reminder sweeps: caught up in bounded runs (what the synthetic data has due),
        then one more run with nothing due, measured: (ms, statements, open cases, runs)."""
        catch_up = 0
        while catch_up < 100:
            catch_up += 1
            if not self._sweep():
                break
        with CaptureQueriesContext(connection) as captured:
            begin = time.perf_counter()
            self._sweep()
            spent = (time.perf_counter() - begin) * 1000
        open_cases = Case.objects.filter(status=Case.Status.OPEN).count()
        return spent, len(captured), open_cases, catch_up

    def _sweep(self) -> int:
        from casework.services import reminders

        return (
            reminders.reviews_remind_due()
            + reminders.triage_remind_overdue()
            + reminders.information_requests_remind_overdue()
            + reminders.actions_remind_overdue()
        )

    def real_case(self, worker, teacher):
        """A case opened through the protocol (Viewflow rows, history), with a plan, a team
        member from another agency, two actions and three more referrals linked to it."""
        from protocols.steps import run_step

        # --reuse: the case an earlier run opened (a second "Bench Case" child would be
        # stopped at triage as a possible match of the first).
        earlier = (
            Case.objects.filter(child__first_name="Bench", child__last_name="Case")
            .order_by("pk")
            .first()
        )
        if earlier is not None:
            return earlier
        school = services.referrer_school(teacher)
        health, _created = Agency.objects.get_or_create(
            name="Health bench", kind="health", district=school.district
        )
        child = services.child_create(
            actor=teacher, first_name="Bench", last_name="Case", date_of_birth="2015-01-01",
            district=worker_district(worker), school=school,
        )  # fmt: skip
        case = None
        for _ in range(4):
            draft = services.referral_create_draft(
                actor=teacher, child=child, concern_categories=["neglect"],
                observations="synthetic", family_informed=True, urgency="priority",
            )  # fmt: skip
            referral = run_step("referral.submit", obj=draft, actor=teacher)
            run_step("referral.decide", obj=referral, actor=worker, decision="open_case")
            case = case or Referral.objects.get(pk=referral.pk).case
            if _ == 0:
                run_step("case.plan", obj=case, actor=worker, objectives="Regular meals")
        member, created = get_user_model().objects.get_or_create(username="bench-psychologist")
        if created:
            services.membership_create(actor=None, user=member, agency=health, role="psychologist")
        services.case_add_member(
            actor=worker, case=case, user=member, agency=health, role="psychologist",
            reason="Assessment", legal_basis="public_task",
            basis_explanation="Child-protection task of the municipality",
        )  # fmt: skip
        for objective in ("Meals", "Homework"):
            services.case_add_action(
                actor=worker, case=case, objective=objective, owning_agency=health
            )
        return case

    @transaction.atomic
    def _fill(self, total, district_count):
        rng = random.Random(42)  # noqa: S311 - synthetic data
        User = get_user_model()
        now = timezone.now()
        districts = District.objects.bulk_create(
            [District(code=f"bench-{i}", name=f"Bench {i}") for i in range(district_count)]
        )
        schools = Agency.objects.bulk_create(
            [
                Agency(name=f"School {d.code}-{j}", kind="school", district=d)
                for d in districts
                for j in range(5)
            ]
        )
        social = Agency.objects.create(
            name="Social bench-0", kind="social_services", district=districts[0]
        )
        teachers = User.objects.bulk_create(
            [User(username=f"bench-teacher-{i}") for i in range(len(schools))]
        )
        worker = User.objects.create(username="bench-worker")
        supervisor = User.objects.create(username="bench-supervisor")
        # Every other district has its triage team and supervisor too (whom the sweeps remind).
        teams = []
        for district in districts[1:]:
            office = Agency.objects.create(
                name=f"Social {district.code}", kind="social_services", district=district
            )
            for role in (Membership.Role.SOCIAL_WORKER, Membership.Role.SUPERVISOR):
                person = User.objects.create(username=f"bench-{role}-{district.code}")
                teams.append((person, office, role))
        for user, agency, role in [
            (worker, social, Membership.Role.SOCIAL_WORKER),
            (supervisor, social, Membership.Role.SUPERVISOR),
            *teams,
        ] + [(t, s, Membership.Role.TEACHER) for t, s in zip(teachers, schools, strict=True)]:
            services.membership_create(actor=None, user=user, agency=agency, role=role)
        children = Child.objects.bulk_create(
            [
                Child(
                    first_name=f"C{i}",
                    last_name="Bench",
                    date_of_birth="2015-01-01",
                    district=districts[i % district_count],
                )
                for i in range(total)
            ],
            batch_size=5000,
        )
        # Most referrals of a year are decided; a few percent wait in the queue at any time.
        statuses = (
            ["submitted", "in_triage"]
            + ["case_opened", "no_further_action"] * 20
            + ["redirected"] * 10
        )
        rows = []
        for i, child in enumerate(children):
            index = rng.randrange(len(schools)) // district_count * district_count
            school = schools[(index + i % district_count) % len(schools)]
            urgency = rng.choice(Urgency.values)
            rows.append(
                Referral(
                    child=child,
                    referrer=teachers[schools.index(school)],
                    school=school,
                    district=child.district,
                    urgency=urgency,
                    urgency_rank={"immediate_danger": 0, "urgent": 1, "priority": 2}.get(
                        urgency, 3
                    ),
                    status=rng.choice(statuses),
                    submitted_at=now,
                    triage_due_at=now + timezone.timedelta(days=rng.randrange(-5, 10)),
                    concern_categories=["neglect"],
                    observations="synthetic",
                )
            )
        Referral.objects.bulk_create(rows, batch_size=5000)
        # What a real submission writes besides: the Viewflow process and tasks of each
        # referral still waiting, so that Viewflow's own queue lists the same tasks.
        write_referral_processes(rows)
        Case.objects.bulk_create(
            [
                Case(
                    reference=f"B-{i}",
                    child=children[i],
                    district=children[i].district,
                    lead_worker=worker,
                    next_review_at=now,
                )
                for i in range(0, total, 10)
            ],
            batch_size=5000,
        )
        return worker, teachers[0], supervisor


def worker_district(worker):
    return Membership.objects.filter(user=worker).select_related("agency").first().agency.district
