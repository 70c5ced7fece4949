"""Where the server's time goes per request: the Flask app in-process, on PostgreSQL, under cProfile.

    .venv/bin/python bench/profile_server.py [--instances 100] [--top 25]

Drives the same five-user-task process as ``bench/throughput.py`` through ``app.test_client()``
(start, then five times list, claim, complete, with HTTP Basic auth), in one thread, on a fresh
PostgreSQL database that is dropped at the end. Prints:

* wall time per request kind, and SQL statements / SQL time per request kind (SQLAlchemy events);
* time in the main parts of a request (auth, SpiffWorkflow load/save/run, schemas, SQL...);
* cProfile's top functions by own time and by cumulative time.

No HTTP server or socket is involved, so this is the server's own cost per request.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

# The parts of a request worth naming: (label, file fragment, function name); cumulative time.
PARTS = [
    ("authenticate (whole)", "engine/services/users.py", "authenticate"),
    ("argon2 verify", "argon2/_password_hasher.py", "verify"),
    ("Serializer.state_from_json (load)", "engine/serialization.py", "state_from_json"),
    ("Serializer.state_to_json (save)", "engine/serialization.py", "state_to_json"),
    ("Serializer.data_to_json_compatible", "engine/serialization.py", "data_to_json_compatible"),
    ("runtime.complete_user_task (Spiff run)", "engine/runtime.py", "complete_user_task"),
    ("runtime.start (Spiff run)", "engine/runtime.py", "start"),
    ("runtime.process_variables", "engine/runtime.py", "process_variables"),
    ("InstanceStore._sync_tasks", "engine/services/instance_store.py", "_sync_tasks"),
    ("history.append", "engine/services/history.py", "append"),
    ("SQLAlchemy Connection.execute", "sqlalchemy/engine/base.py", "execute"),
    ("psycopg cursor.execute", "psycopg/cursor.py", "execute"),
    ("SQLAlchemy compile", "sqlalchemy/sql/elements.py", "_compile_w_cache"),
    ("connection pool checkout", "sqlalchemy/pool/base.py", "_checkout"),
    ("pool pre-ping (SELECT 1 per checkout)", "sqlalchemy/engine/default.py", "_do_ping_w_event"),
    ("transaction commit", "sqlalchemy/engine/default.py", "do_commit"),
    ("marshmallow Schema.load (webargs)", "marshmallow/schema.py", "load"),
    ("marshmallow Schema.dump (response)", "marshmallow/schema.py", "dump"),
    ("Flask jsonify/json dumps", "flask/json/provider.py", "response"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=100, help="instances to drive (5 tasks each)")
    parser.add_argument("--top", type=int, default=25, help="rows of each cProfile table")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("PLUSMA_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--dump", default=None, help="also write the raw cProfile stats to this file")
    parser.add_argument(
        "--cpu", action="store_true", help="profile CPU time (time.process_time) instead of wall time: no waiting"
    )
    args = parser.parse_args(argv)

    import throughput as tp

    db_name = f"plusma_bench_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    url = tp.database_url(args.admin_url, db_name)
    env = dict(os.environ, PLUSMA_DATABASE_URL=url)
    tp.create_database(args.admin_url, db_name)
    app_engine = None
    try:
        tp.run_cli(env, "db", "upgrade")
        tp.run_cli(env, "user", "create", tp.USER, "--group", "bench", "--group", "admin", f"--password={password}")
        tp.run_cli(env, "deploy", str(tp.BPMN), "--name", "bench")

        from engine.config import Settings
        from web.app import create_app

        app = create_app(Settings.from_env(database_url=url, database_url_given=True))
        app_engine = app.extensions["plusma"]
        client = app.test_client()
        token = base64.b64encode(f"{tp.USER}:{password}".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}

        sql = _SqlCounter(app_engine.db.engine)
        walls: dict[str, list[float]] = defaultdict(list)

        def call(kind: str, method: str, path: str, expected: int, **kwargs):  # noqa: ANN202
            sql.kind = kind
            t0 = time.perf_counter()
            response = client.open(f"/engine-rest{path}", method=method, headers=headers, **kwargs)
            walls[kind].append(time.perf_counter() - t0)
            sql.kind = None
            if response.status_code != expected:
                raise tp.BenchError(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)}")
            return response

        def drive(count: int, offset: int) -> None:
            for n in range(offset, offset + count):
                instance = call(
                    "start",
                    "POST",
                    f"/process-definition/key/{tp.PROCESS_KEY}/start",
                    200,
                    json={"businessKey": f"p-{n}", "variables": {"orderNo": {"value": n, "type": "Integer"}}},
                ).get_json()
                for step in range(1, tp.USER_TASKS + 1):
                    [task] = call("list", "GET", "/task", 200, query_string={"processInstanceId": instance["id"]}).json
                    call("claim", "POST", f"/task/{task['id']}/claim", 204, json={"userId": tp.USER})
                    call(
                        "complete",
                        "POST",
                        f"/task/{task['id']}/complete",
                        204,
                        json={"variables": {f"step{step}": {"value": "ok", "type": "String"}}},
                    )

        drive(10, 0)  # warm-up: spec cache, auth cache, connection pool, SQLAlchemy statement cache
        walls.clear()
        sql.reset()

        # Unprofiled first: honest wall times, CPU and SQL counts.
        cpu0, pg0 = time.process_time(), tp.postgres_cpu_seconds()
        t0 = time.perf_counter()
        drive(args.instances, 1000)
        elapsed = time.perf_counter() - t0
        cpu, pg = time.process_time() - cpu0, tp.postgres_cpu_seconds() - pg0
        tasks = args.instances * tp.USER_TASKS
        requests = sum(len(v) for v in walls.values())
        print(f"database {db_name}; {args.instances} instances, {tasks} user tasks, {requests} requests, 1 thread")
        print(f"unprofiled: {elapsed:.2f} s = {tasks / elapsed:.1f} tasks/s, {elapsed / tasks * 1000:.2f} ms per task")
        print(
            f"CPU per user task: Flask app (this process) {cpu / tasks * 1000:.2f} ms, "
            f"PostgreSQL {pg / tasks * 1000:.2f} ms; the rest of the wall time is waiting (round trips, fsync)\n"
        )
        print(f"{'request':10} {'n':>6} {'median ms':>10} {'mean ms':>8} {'SQL stmts':>10} {'SQL ms':>8}")
        for kind in ("start", "list", "claim", "complete"):
            values = walls[kind]
            n = len(values)
            print(
                f"{kind:10} {n:6} {statistics.median(values) * 1000:10.2f} {statistics.mean(values) * 1000:8.2f} "
                f"{sql.count[kind] / n:10.1f} {sql.seconds[kind] / n * 1000:8.2f}"
            )
        per_task_sql = sum(sql.count.values()) / tasks
        print(f"SQL statements per completed user task (all four kinds): {per_task_sql:.1f}")
        print("\nstatements of one 'complete' (first seen order, count per request):")
        for text, count in sql.statements["complete"].items():
            print(f"  {count / len(walls['complete']):4.1f}  {text}")

        # Then under cProfile.
        profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        walls.clear()
        profiler.enable()
        t0 = time.perf_counter()
        drive(args.instances, 100_000)
        profiled = time.perf_counter() - t0
        profiler.disable()
        clock = "CPU time" if args.cpu else "wall time"
        print(f"\nprofiled ({clock}): {profiled:.2f} s wall ({profiled / tasks * 1000:.2f} ms per task, with overhead)")
        stats = pstats.Stats(profiler)
        if args.dump:
            stats.dump_stats(args.dump)
        _print_parts(stats, tasks, stats.total_tt)
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n=== top {args.top} by {order} ===")
            print(_trim(out.getvalue()))
        return 0
    except tp.BenchError as error:
        print(f"profile failed: {error}", file=sys.stderr)
        return 1
    finally:
        if app_engine is not None:
            app_engine.close()
        tp.drop_database(args.admin_url, db_name)


class _SqlCounter:
    """Counts statements and their time per request kind."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        from sqlalchemy import event

        self.kind: str | None = None
        self.reset()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)

    def reset(self) -> None:
        self.count: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.statements: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._t0 = 0.0

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self._t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if self.kind is None:
            return
        self.count[self.kind] += 1
        self.seconds[self.kind] += time.perf_counter() - self._t0
        text = " ".join(statement.split())
        self.statements[self.kind][text[:110] + ("..." if len(text) > 110 else "")] += 1

    def _commit(self, conn) -> None:  # noqa: ANN001
        if self.kind is not None:
            self.statements[self.kind]["COMMIT"] += 1


def _print_parts(stats: pstats.Stats, tasks: int, total: float) -> None:
    print(f"\n{'part (cumulative, profiled)':42} {'calls/task':>10} {'ms/task':>8} {'share':>6}")
    for label, fragment, name in PARTS:
        calls = cumulative = 0.0
        for (filename, _line, function), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if function == name and filename.replace(os.sep, "/").endswith(fragment):
                calls += nc
                cumulative += ct
        if calls:
            print(f"{label:42} {calls / tasks:10.1f} {cumulative / tasks * 1000:8.2f} {cumulative / total:6.1%}")


def _trim(text: str) -> str:
    root = str(ROOT) + os.sep
    lines = [line.replace(root, "").replace(sys.prefix + os.sep, "") for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    return "\n".join(line[:170] for line in lines[start:] if line.strip())


if __name__ == "__main__":
    sys.exit(main())
