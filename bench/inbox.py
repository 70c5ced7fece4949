"""Inbox benchmark: the staff inbox with tens of thousands of open tasks, on SQLite and PostgreSQL.

Run from the checkout root with the project's interpreter::

    .venv/bin/python bench/inbox.py [--tasks 50000] [--repeat 15] [--backend both|sqlite|postgresql]

What it does, per backend:

1. Creates a throw-away database (a SQLite file in a temporary folder, or a PostgreSQL database
   ``plusma_bench_inbox_<random>`` on ``--postgres``), applies the migrations, deploys
   ``tests/fixtures/inbox_work.bpmn`` and creates the user ``klara`` (group ``kac``).
2. Writes ``--tasks`` open task rows straight into the tables the engine keeps (``process_instance``,
   ``task``, ``task_candidate``), each with its own instance, as the engine's rows would be for that
   many waiting instances: 70 % for group ``kac`` and 30 % for ``l2``, 2 % claimed by klara, due dates
   spread over overdue, due soon, on time and none, priorities 30/50/70/90, request numbers and
   Latvian subjects. (The inbox never loads a workflow, so the workflow state column holds a
   placeholder: starting 50,000 instances through the engine would only make the set-up slow.)
3. Times ``InboxService.page`` for klara for the queries staff use most (``--repeat`` rounds each, after
   one warm-up) and the whole inbox page through Flask (sign-in session, template rendering), and prints
   median and p90 milliseconds per query, then the median of the slowest query as the last line.

The database is dropped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_database, database_url, drop_database  # noqa: E402
from engine.config import PROJECT_ROOT, Settings  # noqa: E402
from engine.identity import SYSTEM  # noqa: E402
from engine.process_engine import ProcessEngine  # noqa: E402
from engine.runtime import search_text  # noqa: E402
from engine.services.inbox import InboxQuery  # noqa: E402
from engine.storage import migrate  # noqa: E402
from engine.storage.tables import process_instance, task, task_candidate  # noqa: E402

PASSWORD = "bench-password-123"
KEYS = [
    "pieteikumu_parvaldiba",
    "pakalpojumu_pieprasijumi",
    "incidentu_parvaldiba",
    "problemu_parvaldiba",
    "izmainu_parvaldiba",
    "sudzibas_un_ierosinajumi",
]
WORDS = (
    "printeris nedarbojas ūdens noplūde serverī konts bloķēts izziņa dzīvesvieta parole atjaunot e-pasts "
    "pastkaste pilna tīkls lēns licence pagarināt portāls kļūda maksājums sūdzība ierosinājums piekļuve"
).split()
QUERIES = {
    "default (all, by deadline)": InboxQuery(),
    "claimed by me": InboxQuery(view="mine"),
    "groups' unclaimed, page 40": InboxQuery(view="group", page=40),
    "search subject 'noplūde'": InboxQuery(search="noplūde"),
    "search request number": InboxQuery(search="PIE-2026-01234"),
    "overdue": InboxQuery(deadline="overdue"),
    "critical, by priority": InboxQuery(priority="critical", sort="priority"),
    "one process, 100 per page": InboxQuery(process="incidentu_parvaldiba", page_size=100),
}


def fill(engine: ProcessEngine, count: int, now: datetime) -> None:
    definition = engine.definitions.list(key="inbox_darbs")[0]
    rng = random.Random(7)
    instances, tasks, candidates = [], [], []
    for n in range(count):
        instance_id, task_id = str(uuid.UUID(int=rng.getrandbits(128))), str(uuid.UUID(int=rng.getrandbits(128)))
        key = rng.choice(KEYS)
        business_key = f"PIE-2026-{n:05d}"
        roll = rng.random()
        due = (
            None
            if roll < 0.2
            else now - timedelta(hours=rng.uniform(1, 200))
            if roll < 0.3
            else now + timedelta(hours=rng.uniform(0.1, 20))
            if roll < 0.35
            else now + timedelta(days=rng.uniform(2, 30))
        )
        created = now - timedelta(minutes=rng.uniform(0, 60 * 24 * 30))
        instances.append(
            {
                "id": instance_id,
                "definition_id": definition["id"],
                "definition_key": key,
                "business_key": business_key,
                "state": "ACTIVE",
                "version": 1,
                "state_format": 1,
                "workflow_state": "{}",
                "start_time": created,
                "end_time": None,
                "start_user_id": "klara",
                "delete_reason": None,
            }
        )
        subject = " ".join(rng.sample(WORDS, 4)).capitalize()
        tasks.append(
            {
                "id": task_id,
                "instance_id": instance_id,
                "definition_id": definition["id"],
                "definition_key": key,
                "business_key": business_key,
                "task_definition_key": "Task_darbs",
                "name": "Izpildīt darbu",
                "description": None,
                "assignee": "klara" if rng.random() < 0.02 else None,
                "created": created,
                "due": due,
                "follow_up": None,
                "priority": rng.choice((30, 50, 50, 70, 90)),
                "form_key": None,
                "form_ref": None,
                "subject": subject,
                "search_text": search_text(business_key, subject),
            }
        )
        candidates.append({"task_id": task_id, "kind": "group", "identity": "kac" if rng.random() < 0.7 else "l2"})
    with engine.db.transaction() as uow:
        for start in range(0, count, 5000):
            uow.execute(process_instance.insert(), instances[start : start + 5000])
            uow.execute(task.insert(), tasks[start : start + 5000])
            uow.execute(task_candidate.insert(), candidates[start : start + 5000])
    # Statistics as autovacuum would have them after such a load: without them PostgreSQL plans the
    # candidate semi-join as if the tables were empty.
    with engine.db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


def timed(action, repeat: int) -> list[float]:  # noqa: ANN001
    action()  # warm-up: caches, query plans
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def run(backend: str, url: str, count: int, repeat: int) -> float:
    migrate.upgrade(url)
    engine = ProcessEngine(Settings(database_url=url, database_url_given=True, secret_key="bench"))
    try:
        engine.deployments.deploy(
            {"inbox_work.bpmn": (PROJECT_ROOT / "tests" / "fixtures" / "inbox_work.bpmn").read_bytes()},
            principal=SYSTEM,
        )
        engine.users.create_user("klara", PASSWORD, groups=["kac"])
        began = time.perf_counter()
        fill(engine, count, datetime.now(UTC))
        print(f"[{backend}] {count} open tasks written in {time.perf_counter() - began:.1f} s")
        principal = engine.users.principal("klara")
        results = {}
        for name, query in QUERIES.items():
            page = engine.inbox.page(principal, query)
            samples = timed(lambda q=query: engine.inbox.page(principal, q), repeat)
            results[name] = samples
            print(
                f"[{backend}] {name:<30} {page.total:>6} tasks  median {statistics.median(samples):7.1f} ms"
                f"  p90 {statistics.quantiles(samples, n=10)[-1]:7.1f} ms"
            )
        results["whole page over HTTP"] = http_page(engine, repeat)
        print(
            f"[{backend}] {'whole page over HTTP':<30} {'':>6}        median "
            f"{statistics.median(results['whole page over HTTP']):7.1f} ms"
        )
        slowest = max(results, key=lambda name: statistics.median(results[name]))
        return statistics.median(results[slowest]), slowest
    finally:
        engine.close()


def http_page(engine: ProcessEngine, repeat: int) -> list[float]:
    import re

    from web.app import create_app

    app = create_app(engine=engine)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed_in = client.post("/sign-in", data={"username": "klara", "password": PASSWORD, "csrf_token": token})
    if signed_in.status_code != 302:
        raise RuntimeError(f"sign-in failed: {signed_in.status_code}")

    def fetch() -> None:
        response = client.get("/")
        if response.status_code != 200:
            raise RuntimeError(f"inbox answered {response.status_code}")

    return timed(fetch, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=50_000, help="open tasks (default 50000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds per query (default 15)")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin URL")
    args = parser.parse_args(argv)
    summary = []
    if args.backend in ("both", "sqlite"):
        with tempfile.TemporaryDirectory(prefix="plusma-bench-inbox-") as folder:
            summary.append(("sqlite", *run("sqlite", f"sqlite:///{folder}/inbox.sqlite", args.tasks, args.repeat)))
    if args.backend in ("both", "postgresql"):
        name = f"plusma_bench_inbox_{secrets.token_hex(4)}"
        create_database(args.postgres, name)
        try:
            url = database_url(args.postgres, name)
            summary.append(("postgresql", *run("postgresql", url, args.tasks, args.repeat)))
        finally:
            drop_database(args.postgres, name)
    for backend, median, query in summary:
        print(f"slowest on {backend} with {args.tasks} open tasks: {query}, median {median:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
