"""Measure the lists that grow: the triage queue, a teacher's referrals, a supervisor's cases.

Fills an EMPTY database with synthetic referrals (bulk inserts, no history: this is load, not
case data), then times the selectors the pages and the API use. See docs/performance.md.
"""

import random
import statistics
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from casework import selectors, services
from casework.models import Agency, Case, Child, District, Membership, Referral, Urgency


class Command(BaseCommand):
    help = "Fill an empty database with synthetic referrals and time the growing lists."

    def add_arguments(self, parser):
        parser.add_argument("--referrals", type=int, default=100_000)
        parser.add_argument("--districts", type=int, default=10)
        parser.add_argument("--repeat", type=int, default=20)

    def handle(self, *args, referrals, districts, repeat, **options):
        if Referral.objects.exists():
            raise CommandError("The benchmark needs an empty database (it adds synthetic data).")
        started = time.perf_counter()
        people = self._fill(referrals, districts)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # what autovacuum does after a bulk load
        self.stdout.write(
            f"filled {referrals} referrals in {districts} districts "
            f"({time.perf_counter() - started:.1f} s, {connection.vendor})"
        )
        worker, teacher, supervisor = people
        checks = {
            "triage queue, first page of 50": lambda: list(selectors.triage_queue(worker)[:50]),
            "queue count": lambda: selectors.triage_queue(worker).count(),
            "teacher's referrals, first 50": lambda: list(
                selectors.referrals_visible_to(teacher).order_by("-created_at")[:50]
            ),
            "worker's visible referrals, first 50": lambda: list(
                selectors.referrals_visible_to(worker).order_by("-created_at")[:50]
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
        for user, agency, role in [
            (worker, social, Membership.Role.SOCIAL_WORKER),
            (supervisor, social, Membership.Role.SUPERVISOR),
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
