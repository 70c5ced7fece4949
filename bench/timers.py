"""Timer benchmark: 10,000 timers falling due within one minute, two ``plusma worker`` processes, PostgreSQL.

Run from the checkout root (or anywhere) with the project's interpreter::

    .venv/bin/python bench/timers.py [--timers 10000] [--spread 60] [--workers 2] [--threads 4]

It measures the *lag* of each timer, the time from its due time to its firing, and checks that every
timer fired exactly once. The goal is a p99 lag under one second.

What it does, in one run:

1. Creates a throw-away PostgreSQL database (``plusma_bench_timers_<random>``), applies the migrations
   and deploys ``bench/timers.bpmn``: start event, intermediate timer catch event whose ``timeDate`` is
   the process variable ``termins``, end event.
2. Calibration: starts ``--calibrate`` instances (due in a day) with ``--creators`` threads in this
   process, measures the creation rate, and cancels them again (they keep no job; the check of step 7
   makes sure none of them fired).
3. Picks T0 = now + (time to create every instance at the calibrated rate) x 1.3 + ``--margin`` and
   starts N = ``--timers`` instances through ``engine.instances.start``, instance i due at
   T0 + i x spread / N: an even flow of N / spread timers per second over ``--spread`` seconds. Checks
   that the job table then holds exactly N timer jobs, due from T0 to the end of the spread.
4. Starts ``--workers`` real ``plusma worker --threads K`` processes (``python -m web.cli worker``) at
   once. Nothing is due yet: their schedulers sleep until the first due time themselves. The run is
   refused if they are not up before T0 (raise ``--margin``).
5. Waits until the job table is empty (at most spread + ``--timeout`` seconds), printing progress, then
   stops the workers with SIGTERM; each prints the jobs it ran, which gives the split between them.
6. Reads CPU time (Linux ``/proc``) of each worker, of the PostgreSQL backends serving this database and
   of the whole machine, between the workers being up and the last job being gone, and the transactions
   PostgreSQL committed in the database meanwhile (``pg_stat_database``): a scheduler pass costs one
   acquiring transaction and the reads of the next due time, a firing one transaction.
7. Reads the history: every instance must have exactly one ``timer_fired`` event. Its ``data.due`` is
   the due time and its ``timestamp`` the firing time (the step time the worker used, taken in the
   firing transaction just after the instance was loaded; both from the wall clock here). Lag =
   timestamp - due. Prints the counts, lag median/p90/p99/max, lag per 10 s of due time, the firing
   rate, and, as the last line, ``p99 lag <ms> ms`` and whether the goal is met.

The database is dropped and the workers stopped at the end, also on errors and Ctrl-C. The exit status
is 0 when every timer fired exactly once (whether or not the goal is met), else 1.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the engine is importable from the checkout
    sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402 - bench/common.py, beside this script
    BenchError,
    admin_connect,
    create_database,
    database_url,
    drop_database,
    machine_cpu_seconds,
    percentile,
    process_cpu_seconds,
)

BPMN = Path(__file__).resolve().parent / "timers.bpmn"
PROCESS_KEY = "bench_timers"
GOAL_MS = 1000.0


# ------------------------------------------------------------------------------------------------
# Database


# ------------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc)


def postgres_cpu(db_name: str) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of each backend serving ``db_name``, and of every PostgreSQL process, by pid."""
    backends: dict[int, float] = {}
    everything: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = process_cpu_seconds(int(entry.name))
        everything[int(entry.name)] = seconds
        # A backend's title: "postgres: USER DATABASE HOST(PORT) STATE".
        if f" {db_name} " in cmdline:
            backends[int(entry.name)] = seconds
    return backends, everything


@dataclass
class CpuSnapshot:
    wall: float
    machine_busy: float
    machine_total: float
    workers: list[float]
    backends: dict[int, float]
    postgres_all: dict[int, float]
    bench: float

    @classmethod
    def take(cls, workers: list[Worker], db_name: str) -> CpuSnapshot:
        busy, total = machine_cpu_seconds()
        backends, postgres_all = postgres_cpu(db_name)
        times = os.times()
        return cls(
            time.monotonic(),
            busy,
            total,
            [process_cpu_seconds(w.process.pid) for w in workers],
            backends,
            postgres_all,
            times.user + times.system,
        )


# ------------------------------------------------------------------------------------------------
# Workers


class Worker:
    """One ``plusma worker`` subprocess with its output in a temporary file."""

    def __init__(self, number: int, env: dict[str, str], threads: int) -> None:
        self.number = number
        self.log = tempfile.TemporaryFile(mode="w+", prefix=f"plusma-bench-worker{number}-")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "worker", "--threads", str(threads)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def is_up(self) -> bool:
        return "is running due jobs" in self.output()

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"worker {self.number} exited with {self.process.returncode}:\n{self.output()[-5000:]}")

    def counts(self) -> dict[str, int] | None:
        """What the worker printed when it stopped: ``jobs run: {'done': 5012}``."""
        match = re.search(r"jobs run: (.*)$", self.output(), re.MULTILINE)
        if match is None:
            return None
        text = match.group(1).strip()
        if text == "none":
            return {}
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, dict) else None

    def other_output(self) -> list[str]:
        """Lines besides the start and stop messages: warnings, errors, tracebacks."""
        return [
            line
            for line in self.output().splitlines()
            if line.strip() and "is running due jobs" not in line and "stopped; jobs run" not in line
        ]

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode

    def close(self) -> None:
        self.stop()
        self.log.close()


# ------------------------------------------------------------------------------------------------
# Creating the instances


def start_instances(engine: Any, dues: list[datetime], creators: int, label: str) -> tuple[list[str], float]:
    """Start one instance per due time with ``creators`` threads; their ids in order, and the seconds taken."""
    from engine.identity import SYSTEM

    ids: list[str | None] = [None] * len(dues)
    done = 0
    lock = threading.Lock()
    report_every = max(1000, len(dues) // 5)
    started = time.monotonic()

    def one(index: int) -> None:
        nonlocal done
        row = engine.instances.start(SYSTEM, key=PROCESS_KEY, variables={"termins": dues[index].isoformat()})
        ids[index] = row["id"]
        with lock:
            done += 1
            if done % report_every == 0 and done < len(dues):
                rate = done / (time.monotonic() - started)
                print(f"  {label}: {done} of {len(dues)} started ({rate:.0f}/s)", flush=True)

    pool = ThreadPoolExecutor(max_workers=creators, thread_name_prefix="bench-create")
    try:
        for future in [pool.submit(one, i) for i in range(len(dues))]:
            future.result()  # the first failure (or Ctrl-C) aborts the run
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # do not start the rest after a failure
    return [i for i in ids if i is not None], time.monotonic() - started


def calibrate(engine: Any, count: int, creators: int) -> float:
    """Instances started per second (then cancelled: they leave no job behind)."""
    from engine.identity import SYSTEM

    if count <= 0:
        return 0.0
    far = datetime.now(UTC) + timedelta(days=1)
    ids, seconds = start_instances(engine, [far] * count, creators, "calibration")
    with ThreadPoolExecutor(max_workers=creators) as pool:
        list(pool.map(lambda i: engine.instances.cancel(SYSTEM, i, reason="bench calibration"), ids))
    return count / seconds


# ------------------------------------------------------------------------------------------------
# Reading the database


def scalar(engine: Any, statement: Any) -> Any:
    with engine.db.transaction(write=False) as uow:
        return uow.execute(statement).scalar()


def count_jobs(engine: Any) -> int:
    from sqlalchemy import func, select

    from engine.storage.tables import job

    return scalar(engine, select(func.count()).select_from(job))


def count_fired(engine: Any) -> int:
    from sqlalchemy import func, select

    from engine.storage.tables import history_event

    return scalar(
        engine, select(func.count()).select_from(history_event).where(history_event.c.event_type == "timer_fired")
    )


def check_jobs(engine: Any, count: int, first_due: datetime, last_due: datetime) -> None:
    """The job table holds exactly ``count`` timer jobs of this run, due from ``first_due`` to ``last_due``."""
    from sqlalchemy import func, select

    from engine.storage.tables import job

    with engine.db.transaction(write=False) as uow:
        total, timers, earliest, latest = uow.execute(
            select(
                func.count(),
                func.count().filter(job.c.kind == "timer"),
                func.min(job.c.due),
                func.max(job.c.due),
            ).select_from(job)
        ).one()
    if total != count or timers != count:
        raise BenchError(f"expected {count} timer jobs before the workers start, found {timers} ({total} jobs)")
    if abs(earliest - first_due) > timedelta(milliseconds=1) or abs(latest - last_due) > timedelta(milliseconds=1):
        raise BenchError(f"jobs due {earliest} to {latest}, expected {first_due} to {last_due}")


@dataclass
class Firing:
    instance_id: str
    due: datetime
    fired: datetime

    @property
    def lag_ms(self) -> float:
        return (self.fired - self.due).total_seconds() * 1000


def read_firings(engine: Any) -> list[Firing]:
    from sqlalchemy import select

    from engine.storage.tables import history_event

    with engine.db.transaction(write=False) as uow:
        rows = uow.execute(
            select(history_event.c.instance_id, history_event.c.timestamp, history_event.c.data).where(
                history_event.c.event_type == "timer_fired"
            )
        ).all()
    return [Firing(r.instance_id, datetime.fromisoformat(r.data["due"]), r.timestamp) for r in rows]


def database_transactions(admin_url: str, db_name: str) -> int:
    """Transactions committed in the database so far (each autocommit read counts as one)."""
    with admin_connect(admin_url) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (db_name,)).fetchone()
    return int(row[0]) if row else 0


def count_incidents_and_states(engine: Any, ids: list[str]) -> tuple[int, dict[str, int]]:
    from sqlalchemy import func, select

    from engine.storage.tables import incident, process_instance

    wanted = set(ids)
    with engine.db.transaction(write=False) as uow:
        incidents = uow.execute(select(func.count()).select_from(incident)).scalar()
        rows = uow.execute(select(process_instance.c.id, process_instance.c.state)).all()
    states: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.id in wanted:
            states[row.state] += 1
    return incidents, dict(states)


# ------------------------------------------------------------------------------------------------
# Figures


def lag_line(lags: list[float]) -> str:
    return (
        f"median {statistics.median(lags):7.1f}  p90 {percentile(lags, 0.90):7.1f}  "
        f"p99 {percentile(lags, 0.99):7.1f}  max {max(lags):7.1f} ms"
    )


def wait_for_workers(workers: list[Worker], t0: datetime, timeout: float = 60.0) -> float:
    """Wait until every worker says it runs; the seconds left before T0 then."""
    deadline = time.monotonic() + timeout
    while not all(w.is_up() for w in workers):
        for worker in workers:
            worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"the workers did not start within {timeout:.0f} s")
        time.sleep(0.05)
    return (t0 - datetime.now(UTC)).total_seconds()


def watch(
    engine: Any, workers: list[Worker], t0: datetime, spread: float, count: int, deadline: datetime, every: float
) -> None:
    """Print progress until no job is left; fail when a worker dies or the deadline passes."""
    last_print = time.monotonic()
    while True:
        for worker in workers:
            worker.check_alive()
        left = count_jobs(engine)
        now = datetime.now(UTC)
        if left == 0:
            return
        if now > deadline:
            raise BenchError(f"{left} jobs still waiting {(now - t0).total_seconds():.0f} s after T0")
        if time.monotonic() - last_print >= every and now > t0:
            elapsed = (now - t0).total_seconds()
            due = min(count, int(elapsed * count / spread) + 1)
            fired = count - left
            print(
                f"  T0{elapsed:+6.1f} s  due {due:6}  fired {fired:6}  waiting while due {max(0, due - fired):5}",
                flush=True,
            )
            last_print = time.monotonic()
        time.sleep(0.5)


def report(
    args: argparse.Namespace,
    engine: Any,
    ids: list[str],
    workers: list[Worker],
    before: CpuSnapshot,
    after: CpuSnapshot,
    t0: datetime,
    transactions: int,
) -> bool:
    """Print the figures; True when every timer fired exactly once."""
    firings = read_firings(engine)
    ours = set(ids)
    per_instance: dict[str, list[Firing]] = defaultdict(list)
    strangers = 0
    for firing in firings:
        if firing.instance_id in ours:
            per_instance[firing.instance_id].append(firing)
        else:
            strangers += 1
    never = sum(1 for i in ids if not per_instance.get(i))
    twice = sum(1 for i in ids if len(per_instance.get(i, ())) > 1)
    incidents, states = count_incidents_and_states(engine, ids)
    counts = [w.counts() for w in workers]

    print("\n[exactly once]")
    print(f"  timer_fired events        {len(firings)} for {len(ids)} instances")
    print(f"  instances fired 0 times   {never}")
    print(f"  instances fired >1 times  {twice}")
    if strangers:
        print(f"  firings of other instances {strangers} (calibration instances: must be 0)")
    print(f"  instance states           {', '.join(f'{k} {v}' for k, v in sorted(states.items()))}")
    print(f"  incidents                 {incidents}")
    jobs_run = [c.get("done", 0) if c is not None else None for c in counts]
    split = ", ".join(
        f"worker {w.number}: {c if c is not None else '(no count printed)'}"
        for w, c in zip(workers, counts, strict=True)
    )
    print(f"  jobs run per worker       {split}")
    ok = (
        never == 0
        and twice == 0
        and strangers == 0
        and len(firings) == len(ids)
        and incidents == 0
        and None not in jobs_run
        and sum(j or 0 for j in jobs_run) == len(ids)
    )
    print(f"  every timer fired once    {'yes' if ok else 'NO'}")

    if not firings:
        print("\nno timer fired: no lag figures")
        return False
    lags = [f.lag_ms for f in firings if f.instance_id in ours]
    first = min(f.fired for f in firings)
    last = max(f.fired for f in firings)
    span = (last - first).total_seconds()
    print("\n[lag: firing time - due time]")
    print(f"  all {len(lags):6} timers    min {min(lags):.1f}  {lag_line(lags)}")
    print(f"  over 1 s                  {sum(1 for v in lags if v >= GOAL_MS)} timers")
    buckets: dict[int, list[float]] = defaultdict(list)
    for firing in firings:
        if firing.instance_id in ours:
            buckets[int((firing.due - t0).total_seconds() // 10)].append(firing.lag_ms)
    for bucket in sorted(buckets):
        values = buckets[bucket]
        print(f"  due T0+{bucket * 10:3}..{bucket * 10 + 10:3} s  n={len(values):5}  {lag_line(values)}")
    print(
        f"  first firing              T0{(first - t0).total_seconds():+.3f} s, "
        f"last T0{(last - t0).total_seconds():+.3f} s"
    )
    print(
        f"  firings per second        {len(firings) / span if span > 0 else float('nan'):.1f} achieved "
        f"(demand {len(ids) / args.spread:.1f}/s)"
    )

    wall = after.wall - before.wall
    machine_wall = after.machine_total - before.machine_total
    print(f"\n[CPU from the workers being up to the last job gone, {wall:.1f} s]")
    worker_cpu = [a - b for a, b in zip(after.workers, before.workers, strict=True)]
    for worker, seconds, run in zip(workers, worker_cpu, jobs_run, strict=True):
        per_job = f", {seconds / run * 1000:.2f} ms per job" if run else ""
        print(f"  worker {worker.number:<18} {seconds:6.1f} s ({seconds / wall * 100:.0f}% of a core){per_job}")
    # Per process: backends that started meanwhile count whole; those that ended are lost (other databases').
    backends = sum(seconds - before.backends.get(pid, 0.0) for pid, seconds in after.backends.items())
    postgres_all = sum(seconds - before.postgres_all.get(pid, 0.0) for pid, seconds in after.postgres_all.items())
    bench = after.bench - before.bench
    print(f"  PostgreSQL, this database {backends:6.1f} s ({backends / len(ids) * 1000:.2f} ms per timer)")
    print(f"  PostgreSQL, every process {postgres_all:6.1f} s (other databases' backends and background work too)")
    print(f"  this benchmark (watching) {bench:6.1f} s")
    print(
        f"  PostgreSQL transactions   {transactions} ({transactions / len(ids):.1f} per timer; "
        "each autocommit read is one, the benchmark's own count queries too)"
    )
    if machine_wall > 0:
        busy = after.machine_busy - before.machine_busy
        cores = os.cpu_count() or 1
        other = max(0.0, busy - sum(worker_cpu) - postgres_all - bench)
        print(f"  machine                   {busy / machine_wall * 100:.0f}% busy of {cores} cores")
        print(f"  other processes           {other:6.1f} s ({other / wall:.2f} cores)")
        if other / wall > 0.25:
            print("WARNING       the machine was not idle: other processes took CPU while the timers fired")

    for worker in workers:
        extra = worker.other_output()
        if extra:
            print(f"\nworker {worker.number} also said ({len(extra)} lines, last 20):")
            for line in extra[-20:]:
                print(f"  {line}")

    p99 = percentile(lags, 0.99)
    print(f"\np99 lag {p99:.1f} ms: goal < {GOAL_MS:.0f} ms {'met' if p99 < GOAL_MS else 'NOT met'}", flush=True)
    return ok


# ------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timers", type=int, default=10_000, help="timers (instances) to fire (default 10000)")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which they fall due (default 60)")
    parser.add_argument("--workers", type=int, default=2, help="plusma worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="plusma worker --threads (default 4)")
    parser.add_argument("--creators", type=int, default=4, help="threads starting the instances (default 4)")
    parser.add_argument(
        "--calibrate", type=int, default=300, help="instances started (and cancelled) to time creation (default 300)"
    )
    parser.add_argument(
        "--margin", type=float, default=10.0, help="seconds between the estimated end of creation and T0 (default 10)"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds after the last due time to give up (default 120)"
    )
    parser.add_argument("--progress", type=float, default=10.0, help="seconds between progress lines (default 10)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("PLUSMA_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL URL with the right to create databases (env PLUSMA_BENCH_ADMIN_URL)",
    )
    return parser


def _interrupt(_signum, _frame) -> None:  # noqa: ANN001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.timers < 1 or args.spread <= 0 or args.workers < 1:
        print("--timers, --spread and --workers must be positive", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on SIGTERM as on Ctrl-C

    from engine.config import Settings
    from engine.identity import SYSTEM
    from engine.process_engine import ProcessEngine
    from engine.storage import migrate

    db_name = f"plusma_bench_timers_{secrets.token_hex(4)}"
    url = database_url(args.admin_url, db_name)
    env = dict(os.environ, PLUSMA_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    created = False
    engine = None
    workers: list[Worker] = []
    try:
        create_database(args.admin_url, db_name)
        created = True
        print(f"database      {db_name} (PostgreSQL, fresh)", flush=True)
        migrate.upgrade(url)
        settings = Settings(database_url=url, database_url_given=True, pool_size=max(10, args.creators))
        engine = ProcessEngine(settings)
        engine.deployments.deploy({BPMN.name: BPMN.read_bytes()}, principal=SYSTEM, name="bench-timers")
        print(f"deployed      {PROCESS_KEY} ({BPMN.name}): start, timer catch on 'termins', end", flush=True)
        print(
            f"run           {args.timers} timers over {args.spread:.0f} s ({args.timers / args.spread:.1f}/s), "
            f"{args.workers} workers x {args.threads} threads; machine {os.cpu_count()} cores, "
            f"Python {sys.version.split()[0]}",
            flush=True,
        )

        rate = calibrate(engine, args.calibrate, args.creators)
        if rate:
            print(f"calibration   {args.calibrate} instances started (and cancelled) at {rate:.0f}/s", flush=True)
            estimate = args.timers / rate
        else:
            estimate = args.timers / 100.0  # no calibration: assume a slow 100/s
        t0 = datetime.now(UTC) + timedelta(seconds=estimate * 1.3 + args.margin)
        step = timedelta(seconds=args.spread / args.timers)
        dues = [t0 + i * step for i in range(args.timers)]
        print(
            f"T0            {t0.isoformat(timespec='milliseconds')}: "
            f"in {(t0 - datetime.now(UTC)).total_seconds():.1f} s (creation estimated at {estimate:.1f} s)",
            flush=True,
        )
        ids, seconds = start_instances(engine, dues, args.creators, "instances")
        print(f"created       {len(ids)} instances in {seconds:.1f} s ({len(ids) / seconds:.0f}/s)", flush=True)
        check_jobs(engine, args.timers, dues[0], dues[-1])
        last = (dues[-1] - t0).total_seconds()
        print(f"jobs          {args.timers} timer jobs due T0 .. T0+{last:.3f} s", flush=True)

        workers = [Worker(n + 1, env, args.threads) for n in range(args.workers)]
        left = wait_for_workers(workers, t0)
        if left < 0.5:
            raise BenchError(
                f"the workers were up only {-left:.1f} s after T0 (creation was slower than estimated): raise --margin"
            )
        pids = ", ".join(str(w.process.pid) for w in workers)
        print(f"workers       {args.workers} up (pids {pids}), {left:.1f} s before T0", flush=True)
        transactions = database_transactions(args.admin_url, db_name)
        before = CpuSnapshot.take(workers, db_name)
        deadline = t0 + timedelta(seconds=args.spread + args.timeout)
        watch(engine, workers, t0, args.spread, args.timers, deadline, args.progress)
        after = CpuSnapshot.take(workers, db_name)
        print(f"done          no job left at T0{(datetime.now(UTC) - t0).total_seconds():+.1f} s", flush=True)
        codes = [w.stop() for w in workers]
        if codes != [0] * len(workers):
            print(f"WARNING       worker exit codes {codes}")

        time.sleep(0.5)  # the workers' backends have ended and reported their statistics
        transactions = database_transactions(args.admin_url, db_name) - transactions
        ok = report(args, engine, ids, workers, before, after, t0, transactions)
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        for worker in workers:
            print(f"worker {worker.number} output (last 3000 characters):\n{worker.output()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        for worker in workers:
            worker.close()
        if engine is not None:
            engine.close()
        if created:
            try:
                drop_database(args.admin_url, db_name)
            except Exception as error:  # noqa: BLE001 - say so, but do not hide the result
                print(f"could not drop database {db_name}: {error}", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
