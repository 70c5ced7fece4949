"""Throughput benchmark: completed user tasks per second over HTTP versus raw SpiffWorkflow.

Run from the checkout root (or anywhere) with the project's interpreter::

    .venv/bin/python bench/throughput.py [--seconds 20] [--clients 8] [--workers 4] [--threads 2] [--repeat 3]

What it does, in one run:

1. Creates a throw-away PostgreSQL database (``plusma_bench_<random>``), runs ``plusma db upgrade``,
   creates a user in the groups ``bench`` and ``admin`` and deploys ``bench/five_tasks.bpmn``, all
   through the ``plusma`` command line.
2. Starts the production server, gunicorn (``web.wsgi:app``, gthread workers), on a free port.
   Defaults (4 workers x 2 threads) were the best of the settings tried on 2 cores. gthread keeps a
   keep-alive connection in the worker that accepted it, and uncapped one worker often accepts every
   client (then the others idle and the GIL caps the figure), so ``--worker-connections`` is capped
   by default to spread the clients; the run prints how they were spread.
3. Raw SpiffWorkflow, in this process, one thread, while the server is idle: the same BPMN parsed
   with SpiffWorkflow's CamundaParser; per user task one ``serialize_json`` + ``deserialize_json``
   of the whole workflow, then the task is run and the engine steps on.
4. HTTP: client threads, each with one keep-alive http.client connection and HTTP Basic auth, loop:
   start an instance, then five times: list its open task, claim it, complete it with a variable.
   Any unexpected status aborts the run.
5. HTTP floor: the same clients send authenticated ``GET /version`` (no work) as fast as they can.
   That rate divided by the requests per task of step 4 is the most tasks/s any server work could
   reach on this machine, printed as the ceiling of the ratio.
6. Prints both figures and, as the last line, ``ratio <http / raw>``.

The database is dropped and gunicorn stopped at the end, also on errors and Ctrl-C.

Fairness: the HTTP figure is for the whole machine (server workers, PostgreSQL and the load
clients share its cores); the raw figure is one Python thread with no I/O at all.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from common import (  # bench/common.py, beside this script
    BenchError,
    create_database,
    database_url,
    drop_database,
    machine_cpu_seconds,
    percentile,
    process_cpu_seconds,
)

ROOT = Path(__file__).resolve().parent.parent
BPMN = Path(__file__).resolve().parent / "five_tasks.bpmn"
PROCESS_KEY = "bench_five_tasks"
USER_TASKS = 5
USER = "bench-user"
PREFIX = "/engine-rest"


# ------------------------------------------------------------------------------------------------
# Setup: database, CLI, server


def run_cli(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "web.cli", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"plusma {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn as a subprocess, in its own session so it can be stopped as a whole."""

    def __init__(
        self, env: dict[str, str], port: int, workers: int, threads: int, worker_connections: int | None = None
    ) -> None:
        self.port = port
        self.log = tempfile.TemporaryFile(mode="w+", prefix="plusma-bench-gunicorn-")
        command = [
            sys.executable, "-m", "gunicorn", "web.wsgi:app",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--threads", str(threads),
            "--worker-class", "gthread",
            "--log-level", "warning",
        ]  # fmt: skip
        if worker_connections:
            command += ["--worker-connections", str(worker_connections)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            try:
                # The master listens before its workers have loaded the app: a read may wait a while.
                if requests.get(f"{self.base_url}/engine", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn did not answer within {timeout:.0f} s:\n{self.output()}")

    def worker_pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def _sockets(self, state: str) -> list[list[str]]:
        """/proc/net/tcp rows of the server's port in a TCP state ("01" established, "06" TIME_WAIT)."""
        rows = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == state:
                    rows.append(fields)
        return rows

    def closed_by_server(self) -> int:
        """Connections the server closed in the last minute (left in TIME_WAIT on its side)."""
        return len(self._sockets("06"))

    def connections_per_worker(self) -> list[int]:
        """Established client connections each worker holds (from /proc): keep-alive makes them sticky."""
        inodes = {fields[9] for fields in self._sockets("01")}
        counts = []
        for pid in self.worker_pids()[1:]:
            count = 0
            try:
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        count += 1
            except OSError:
                pass
            counts.append(count)
        return counts

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's master stops its workers on SIGTERM
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


# ------------------------------------------------------------------------------------------------
# CPU accounting (Linux /proc), to show where the machine's cores went during the HTTP phase


def postgres_cpu_seconds() -> float:
    """CPU of every PostgreSQL process on the machine (its backends serve this benchmark's queries)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += process_cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


@dataclass
class CpuSnapshot:
    machine_busy: float
    machine_total: float
    client: float
    server: float
    postgres: float

    @classmethod
    def take(cls, server: Server | None) -> CpuSnapshot:
        busy, total = machine_cpu_seconds()
        times = os.times()
        server_cpu = sum(process_cpu_seconds(pid) for pid in server.worker_pids()) if server else 0.0
        return cls(busy, total, times.user + times.system, server_cpu, postgres_cpu_seconds())


def foreign_load(server: Server, seconds: float = 1.0) -> float:
    """How many cores processes other than this benchmark's keep busy (a warning sign for the figures)."""
    before = CpuSnapshot.take(server)
    time.sleep(seconds)
    after = CpuSnapshot.take(server)
    wall = after.machine_total - before.machine_total
    own = (after.client - before.client) + (after.server - before.server) + (after.postgres - before.postgres)
    cores = os.cpu_count() or 1
    return max(0.0, after.machine_busy - before.machine_busy - own) / wall * cores if wall > 0 else 0.0


# ------------------------------------------------------------------------------------------------
# Raw SpiffWorkflow


def raw_throughput(seconds: float) -> tuple[float, int, int]:
    """User tasks per second of bare SpiffWorkflow with one JSON round trip per task."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
    from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec(PROCESS_KEY)
    subprocess_specs = parser.get_subprocess_specs(PROCESS_KEY)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))

    def one_instance(number: int, deadline: float | None) -> int:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.get_next_task(state=TaskState.READY).data["orderNo"] = number
        workflow.do_engine_steps()
        done = 0
        while not workflow.is_completed():
            state = serializer.serialize_json(workflow)
            workflow = serializer.deserialize_json(state)
            tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
            if len(tasks) != 1:
                raise BenchError(f"raw: expected one READY user task, found {len(tasks)}")
            task = tasks[0]
            task.data[f"step{done + 1}"] = "ok"
            task.run()
            workflow.do_engine_steps()
            done += 1
            if deadline is not None and time.perf_counter() >= deadline:
                break
        return done

    if one_instance(0, None) != USER_TASKS:  # warm-up, and a check of the model
        raise BenchError("raw: the process did not have five user tasks")
    completed = instances = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        completed += one_instance(instances + 1, deadline)
        instances += 1
    elapsed = time.perf_counter() - started
    return completed / elapsed, completed, len(serializer.serialize_json(BpmnWorkflow(spec, subprocess_specs)))


# ------------------------------------------------------------------------------------------------
# HTTP load


@dataclass
class ClientStats:
    tasks: int = 0
    instances: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)


class Load:
    """Client threads driving five-task instances through the REST API."""

    def __init__(self, base_url: str, password: str, clients: int) -> None:
        self.base_url = base_url
        self.password = password
        self.clients = clients
        self.measuring = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.stats = [ClientStats() for _ in range(clients)]

    def run(self, warmup: float, seconds: float, during=None) -> float:  # noqa: ANN001
        threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.clients)]
        for thread in threads:
            thread.start()
        self._sleep(warmup)
        self.measuring.set()
        started = time.perf_counter()
        if during is not None:
            during()
        self._sleep(seconds - (time.perf_counter() - started))
        self.measuring.clear()
        elapsed = time.perf_counter() - started
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        if self.error is not None:
            raise BenchError(f"HTTP load failed: {self.error}") from self.error
        return elapsed

    def _sleep(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and self.error is None:
            time.sleep(min(0.1, max(0.0, deadline - time.perf_counter())))
        if self.error is not None:
            self.stop.set()
            raise BenchError(f"HTTP load failed: {self.error}") from self.error

    def _client(self, index: int) -> None:
        # http.client, not requests: the load generator shares the 2 cores with the server, and
        # requests costs several times more CPU per call.
        session = KeepAliveClient(self.base_url, USER, self.password)
        stats = self.stats[index]

        def call(kind: str, method: str, path: str, expected: int, json=None, params=None):  # noqa: ANN001, ANN202
            t0 = time.perf_counter()
            status, body = session.request(method, path, json_body=json, params=params)
            elapsed = time.perf_counter() - t0
            if status != expected:
                raise BenchError(f"{method} {path}: expected {expected}, got {status}: {body[:500]!r}")
            if self.measuring.is_set():
                stats.latencies.setdefault(kind, []).append(elapsed)
            return JsonBody(body)

        try:
            number = 0
            while not self.stop.is_set():
                number += 1
                instance = call(
                    "start",
                    "POST",
                    f"/process-definition/key/{PROCESS_KEY}/start",
                    200,
                    json={
                        "businessKey": f"bench-{index}-{number}",
                        "variables": {"orderNo": {"value": number, "type": "Integer"}},
                    },
                ).json()
                for step in range(1, USER_TASKS + 1):
                    if self.stop.is_set():
                        break
                    tasks = call("list", "GET", "/task", 200, params={"processInstanceId": instance["id"]}).json()
                    if len(tasks) != 1:
                        raise BenchError(f"instance {instance['id']}: expected one open task, got {len(tasks)}")
                    task_id = tasks[0]["id"]
                    call("claim", "POST", f"/task/{task_id}/claim", 204, json={"userId": USER})
                    call(
                        "complete",
                        "POST",
                        f"/task/{task_id}/complete",
                        204,
                        json={"variables": {f"step{step}": {"value": "ok", "type": "String"}}},
                    )
                    if self.measuring.is_set():
                        stats.tasks += 1
                else:
                    if self.measuring.is_set():
                        stats.instances += 1
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            if self.error is None:
                self.error = error
            self.stop.set()
        finally:
            session.close()


class FloorLoad(Load):
    """The same clients, connections and authentication, on an endpoint that does no work.

    What gunicorn, Flask, the auth check and the load clients cost per request on this machine: the
    ceiling of any endpoint here, so the ceiling of the task figure is this rate divided by the
    requests a task takes.
    """

    def _client(self, index: int) -> None:
        session = KeepAliveClient(self.base_url, USER, self.password)
        stats = self.stats[index]
        try:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                status, body = session.request("GET", "/version")
                if status != 200:
                    raise BenchError(f"GET /version: expected 200, got {status}: {body[:500]!r}")
                if self.measuring.is_set():
                    stats.latencies.setdefault("version", []).append(time.perf_counter() - t0)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            if self.error is None:
                self.error = error
            self.stop.set()
        finally:
            session.close()


class JsonBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def json(self):  # noqa: ANN201
        return json.loads(self.body)


class KeepAliveClient:
    """One persistent HTTP/1.1 connection with Basic auth (what a Camunda client library keeps)."""

    def __init__(self, base_url: str, user: str, password: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Connection": "keep-alive"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, json_body=None, params=None) -> tuple[int, bytes]:  # noqa: ANN001
        url = self.prefix + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = dict(self.headers)
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                self.connection.request(method, url, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


# ------------------------------------------------------------------------------------------------


def raw_phase(seconds: float) -> float:
    print(f"\n[raw SpiffWorkflow] 1 thread, in-process, {seconds:.0f} s, server idle ...", flush=True)
    raw, raw_tasks, state_bytes = raw_throughput(seconds)
    print(f"  completed user tasks      {raw_tasks}")
    print(f"  workflow JSON per round   ~{state_bytes} bytes at start (spec included)")
    print(f"  raw tasks/s               {raw:.1f}", flush=True)
    return raw


def floor_phase(args: argparse.Namespace, server: Server, password: str) -> tuple[float, float]:
    """Requests per second of an authenticated no-op endpoint, same clients and server."""
    print(
        f"\n[HTTP floor] {args.clients} client threads, authenticated GET /version, measured {args.seconds:.0f} s ..."
    )
    load = FloorLoad(server.base_url, password, args.clients)
    before = CpuSnapshot.take(server)
    elapsed = load.run(args.warmup, args.seconds)
    after = CpuSnapshot.take(server)
    requests = sum(len(s.latencies.get("version", [])) for s in load.stats)
    rate = requests / elapsed
    cpu_per_request = 0.0
    if requests:
        server_cpu, client_cpu = after.server - before.server, after.client - before.client
        cpu_per_request = (server_cpu + client_cpu) / requests
        print(
            f"  CPU per request           gunicorn {server_cpu / requests * 1000:.2f} ms, "
            f"load clients {client_cpu / requests * 1000:.2f} ms"
        )
    print(f"  no-op requests/s          {rate:.1f}", flush=True)
    return rate, cpu_per_request


def http_phase(args: argparse.Namespace, server: Server, password: str) -> tuple[float, float]:
    cores = os.cpu_count() or 1
    print(
        f"\n[HTTP] {args.clients} client threads (http.client keep-alive, Basic auth), "
        f"warm-up {args.warmup:.0f} s, measured {args.seconds:.0f} s ...",
        flush=True,
    )
    load = Load(server.base_url, password, args.clients)
    closed_before = server.closed_by_server()
    before = CpuSnapshot.take(server)
    spread: list[int] = []
    elapsed = load.run(args.warmup, args.seconds, during=lambda: spread.extend(server.connections_per_worker()))
    after = CpuSnapshot.take(server)
    tasks = sum(s.tasks for s in load.stats)
    instances = sum(s.instances for s in load.stats)
    http = tasks / elapsed
    print(f"  completed user tasks      {tasks} in {elapsed:.1f} s ({instances} instances finished)")
    latencies: dict[str, list[float]] = {}
    for stats in load.stats:
        for kind, values in stats.latencies.items():
            latencies.setdefault(kind, []).extend(values)
    everything = [v for values in latencies.values() for v in values]
    if everything:
        median, p99 = statistics.median(everything) * 1000, percentile(everything, 0.99) * 1000
        print(
            f"  requests                  {len(everything)} ({len(everything) / elapsed:.0f}/s), "
            f"latency median {median:.1f} ms, p99 {p99:.1f} ms"
        )
    for kind in ("start", "list", "claim", "complete"):
        values = latencies.get(kind)
        if values:
            print(
                f"    {kind:9} n={len(values):6}  median {statistics.median(values) * 1000:6.1f} ms"
                f"  p99 {percentile(values, 0.99) * 1000:6.1f} ms"
            )
    wall = after.machine_total - before.machine_total
    if wall > 0 and tasks:
        busy = after.machine_busy - before.machine_busy
        client = after.client - before.client
        server_cpu = after.server - before.server
        postgres = after.postgres - before.postgres
        other = max(0.0, busy - client - server_cpu - postgres)
        print(f"  CPU while measuring       machine {busy / wall * 100:.0f}% busy of {cores} cores")
        print(
            f"  CPU per completed task    gunicorn {server_cpu / tasks * 1000:.1f} ms, PostgreSQL "
            f"{postgres / tasks * 1000:.1f} ms, load clients {client / tasks * 1000:.1f} ms, "
            f"other processes {other / tasks * 1000:.1f} ms"
        )
    if spread:
        print(f"  connections per worker    {', '.join(map(str, spread))} (keep-alive connections stay where accepted)")
    closed = server.closed_by_server() - closed_before
    if closed > 0:
        print(f"  closed by the server      {closed} connections (no keep-alive for them: a cap or a timeout)")
    print(f"  HTTP tasks/s              {http:.1f}", flush=True)
    return http, (len(everything) / tasks if tasks else 0.0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured duration of each phase (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="HTTP warm-up before measuring (default 3)")
    parser.add_argument("--clients", type=int, default=8, help="HTTP client threads (default 8)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (default 2)")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=None,
        help="gunicorn --worker-connections, the cap of connections per worker. Uncapped (0: gunicorn's 1000), a "
        "gthread worker may accept every keep-alive client and keep them all; the default caps it at "
        "max(threads + 2, clients / workers), which spreads the clients and still keeps their connections alive",
    )
    parser.add_argument("--repeat", type=int, default=1, help="rounds of raw + HTTP; medians are reported (default 1)")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("PLUSMA_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL URL with the right to create databases (env PLUSMA_BENCH_ADMIN_URL)",
    )
    parser.add_argument("--skip-raw", action="store_true", help="measure only HTTP (no ratio line)")
    parser.add_argument(
        "--skip-floor", action="store_true", help="skip the no-op endpoint phase that gives the ceiling of the figure"
    )
    return parser


def _interrupt(_signum, _frame) -> None:  # noqa: ANN001
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker_connections is None:
        args.worker_connections = max(args.threads + 2, -(-args.clients // args.workers))
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on SIGTERM as on Ctrl-C

    db_name = f"plusma_bench_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    env = dict(os.environ, PLUSMA_DATABASE_URL=database_url(args.admin_url, db_name), PYTHONUNBUFFERED="1")
    server: Server | None = None
    created = False
    cores = os.cpu_count() or 1
    try:
        create_database(args.admin_url, db_name)
        created = True
        print(f"database      {db_name} (PostgreSQL, fresh)", flush=True)
        run_cli(env, "db", "upgrade")
        run_cli(env, "user", "create", USER, "--group", "bench", "--group", "admin", f"--password={password}")
        print("deployed      " + run_cli(env, "deploy", str(BPMN), "--name", "bench"), flush=True)

        server = Server(env, free_port(), args.workers, args.threads, args.worker_connections)
        server.wait_ready()
        capped = f", worker-connections {args.worker_connections}" if args.worker_connections else ""
        print(
            f"server        gunicorn web.wsgi:app, {args.workers} workers x {args.threads} threads (gthread){capped}, "
            f"port {server.port}",
            flush=True,
        )
        print(f"clients       {args.clients} threads; {args.seconds:.0f} s per phase; {args.repeat} round(s)")
        print(f"machine       {cores} CPU cores; Python {sys.version.split()[0]}", flush=True)
        busy_elsewhere = foreign_load(server)
        print(f"other load    {busy_elsewhere:.2f} cores busy before the run (other processes)", flush=True)
        if busy_elsewhere > 0.25:
            print("WARNING       the machine is not idle: both figures (HTTP more) are lower than they should be")

        raws: list[float] = []
        https: list[float] = []
        ceilings: list[float] = []
        floor_cpu_per_task: list[float] = []
        for round_number in range(1, args.repeat + 1):
            if args.repeat > 1:
                print(f"\n--- round {round_number} of {args.repeat} ---")
            if not args.skip_raw:
                raws.append(raw_phase(args.seconds))
            http, requests_per_task = http_phase(args, server, password)
            https.append(http)
            if not args.skip_floor and requests_per_task:
                rate, cpu_per_request = floor_phase(args, server, password)
                ceilings.append(rate / requests_per_task)
                floor_cpu_per_task.append(cpu_per_request * requests_per_task)

        log = server.output().strip()
        if log:
            print(f"\ngunicorn said (warnings and errors):\n{log}")
        http = statistics.median(https)
        label = "median of " + ", ".join(f"{v:.1f}" for v in https) if len(https) > 1 else "one run"
        print(
            f"\nNote: not like for like. HTTP uses the whole machine ({cores} cores shared by gunicorn "
            f"({args.workers}x{args.threads}), PostgreSQL and {args.clients} load-client threads) with authentication, "
            "four HTTP requests per task, "
            "persistence and history; raw is one Python thread, no I/O."
        )
        print(f"HTTP tasks/s  {http:.1f}  ({label})")
        if not raws:
            return 0
        raw = statistics.median(raws)
        label = "median of " + ", ".join(f"{v:.1f}" for v in raws) if len(raws) > 1 else "one run"
        print(f"raw tasks/s   {raw:.1f}  ({label})")
        if ceilings:
            ceiling = statistics.median(ceilings)
            print(
                f"ceiling       {ceiling:.1f} tasks/s = no-op requests/s / requests per task: the ratio no server "
                f"work at all could beat here is {ceiling / raw:.3f}"
            )
            # The same requests plus SpiffWorkflow's own work per task (raw's CPU per task), spread over every
            # core, with nothing stored: what an HTTP server around SpiffWorkflow could reach at best here.
            spiff_bound = cores / (statistics.median(floor_cpu_per_task) + 1 / raw)
            print(
                f"bound         {spiff_bound:.1f} tasks/s = {cores} cores / (no-op requests' CPU per task + raw CPU "
                f"per task), storing nothing: ratio {spiff_bound / raw:.3f}"
            )
        print(f"ratio {http / raw:.3f}", flush=True)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    except BenchError as error:
        print(f"\nbenchmark failed: {error}", file=sys.stderr)
        if server is not None:
            print(f"gunicorn output:\n{server.output()}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the cleanup finish
        if server is not None:
            server.stop()
        if created:
            try:
                drop_database(args.admin_url, db_name)
            except Exception as error:  # noqa: BLE001 - say so, but do not hide the result
                print(f"could not drop database {db_name}: {error}", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
