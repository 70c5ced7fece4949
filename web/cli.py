"""The ``plusma`` command line: serve, deploy, database and user administration."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from engine.config import Settings
from engine.errors import InvalidModel, PlusmaError
from engine.identity import SYSTEM
from engine.process_engine import ProcessEngine
from engine.roles import ROLES
from engine.storage import migrate

DEPLOYABLE_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn", ".dmn11.xml", ".form")
PROCESSES_DEPLOYMENT = "plusma-processes"


def collect_files(paths: Iterable[Path]) -> dict[str, bytes]:
    """Deployable files under the given files or folders, by their path relative to the folder."""
    files: dict[str, bytes] = {}
    for path in paths:
        if path.is_dir():
            for item in sorted(path.rglob("*")):
                if item.is_file() and item.name.endswith(DEPLOYABLE_SUFFIXES):
                    files[item.relative_to(path).as_posix()] = item.read_bytes()
        elif path.is_file():
            files[path.name] = path.read_bytes()
        else:
            raise PlusmaError(f"{path}: no such file or folder")
    return files


def deploy_paths(engine: ProcessEngine, paths: list[Path], name: str | None, source: str) -> list[dict]:
    files = collect_files(paths)
    if not files:
        raise PlusmaError(f"No .bpmn, .dmn or .form files in {', '.join(map(str, paths))}")
    result = engine.deployments.deploy(files, principal=SYSTEM, name=name, source=source)
    return result.process_definitions


def _print_error(error: PlusmaError) -> None:
    if isinstance(error, InvalidModel):
        print("Deployment refused; nothing was stored:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
    else:
        print(f"error: {error.message}", file=sys.stderr)


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    print(f"Database schema is up to date ({migrate.current_revision(settings.database_url)}).")
    return 0


def cmd_deploy(settings: Settings, args: argparse.Namespace) -> int:
    engine = ProcessEngine(settings)
    try:
        definitions = deploy_paths(engine, [Path(p) for p in args.paths], args.name, "plusma deploy")
    finally:
        engine.close()
    if not definitions:
        print("Nothing changed: every process is already deployed in this version.")
    for definition in definitions:
        print(f"Deployed {definition['key']} version {definition['version']} ({definition['id']})")
    return 0


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {args.name}: ")
            if getpass.getpass("Repeat the password: ") != password:
                print("error: the passwords differ", file=sys.stderr)
                return 1
    engine = ProcessEngine(settings)
    try:
        engine.users.create_user(
            args.name,
            password,
            groups=args.group or [],
            first_name=args.first_name,
            last_name=args.last_name,
            email=args.email,
        )
    finally:
        engine.close()
    print(f"Created user {args.name} in groups: {', '.join(args.group or []) or '(none)'}")
    return 0


def prepare(settings: Settings, out=sys.stdout) -> None:  # noqa: ANN001
    """What ``serve`` does before it listens: schema, processes, demo users."""
    if settings.database_url.startswith("sqlite"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    engine = ProcessEngine(settings)
    try:
        new_database = engine.users.user_count() == 0
        paths = [p for p in (settings.processes_dir, settings.forms_dir) if p.is_dir()]
        if collect_files(paths):  # an institution may start with no processes of its own
            definitions = deploy_paths(engine, paths, PROCESSES_DEPLOYMENT, "plusma serve")
            for definition in definitions:
                print(f"Deployed {definition['key']} version {definition['version']}", file=out)
        if new_database and not settings.database_url_given:
            _create_demo_users(engine, out)
    finally:
        engine.close()


def _create_demo_users(engine: ProcessEngine, out) -> None:  # noqa: ANN001
    from engine.services.users import generate_password

    print("\nA new embedded database: demo users, one for each role (shown only now):", file=out)
    for group_id, (latvian, english) in ROLES.items():
        user_id = f"demo-{group_id}"
        password = generate_password()
        engine.users.create_user(user_id, password, groups=[group_id], first_name=latvian)
        print(f"  {user_id:32} {password:20} {english}", file=out)
    print("", file=out)


BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml")


def _bpmn_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.is_file() and p.name.endswith(BPMN_SUFFIXES)]
        elif path.is_file():
            files.append(path)
        else:
            raise PlusmaError(f"{path}: no such file or folder")
    return files


def cmd_layout(_settings: Settings, args: argparse.Namespace) -> int:
    """Lay out BPMN files' diagrams (BPMNDI) in place, or with --check only report what is not drawn."""
    from engine.modelling import layout_bpmn, missing_diagram_elements

    failed = False
    changed = 0
    files = _bpmn_files(Path(p) for p in args.paths)
    for path in files:
        content = path.read_bytes()
        try:
            missing = missing_diagram_elements(content, str(path))
            if args.check:
                if missing:
                    failed = True
                    print(f"{path}: not in the diagram: {', '.join(missing)}", file=sys.stderr)
                continue
            if args.missing_only and not missing:
                continue
            new = layout_bpmn(content, str(path))
        except InvalidModel as error:
            failed = True
            _print_error(error)
            continue
        if new != content:
            path.write_bytes(new)
            changed += 1
            print(f"Laid out {path}")
    if args.check:
        if failed:
            print("Run `plusma layout FILE...` to draw the missing elements.", file=sys.stderr)
        else:
            print(f"Every element of {len(files)} file(s) is in its diagram.")
    else:
        print(f"{changed} of {len(files)} file(s) changed.")
    return 1 if failed else 0


def cmd_prepare(settings: Settings, _args: argparse.Namespace) -> int:
    prepare(settings)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    prepare(settings)
    from web.server import run

    print(f"Plūsma is listening on http://{args.host}:{args.port}/engine-rest", flush=True)
    run(settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Run due jobs (timers, connectors) until stopped: a process of its own, as many as wanted."""
    import signal
    import threading

    from engine.scheduler import JobScheduler

    engine = ProcessEngine(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = JobScheduler(engine, threads=args.threads or settings.scheduler_threads).start()
    print(f"Plūsma worker {scheduler.owner} is running due jobs; stop it with Ctrl-C or SIGTERM", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown()
        engine.close()
    print(f"Plūsma worker {scheduler.owner} stopped; jobs run: {scheduler.counts or 'none'}", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plusma", description="Plūsma workflow engine")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="upgrade the schema, deploy processes/ and serve the API")
    serve.add_argument("--host", default=os.environ.get("PLUSMA_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PLUSMA_PORT", "8080")))
    serve.add_argument("--workers", type=int, default=2, help="server processes")
    serve.add_argument("--threads", type=int, default=4, help="threads per server process")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run due jobs (timers, connectors) in a process of its own")
    worker.add_argument("--threads", type=int, default=None, help="jobs run at once (default: 4)")
    worker.set_defaults(handler=cmd_worker)

    commands.add_parser(
        "prepare", help="upgrade the schema and deploy processes/ and forms/ (what serve does first)"
    ).set_defaults(handler=cmd_prepare)

    deploy = commands.add_parser("deploy", help="deploy .bpmn, .dmn and .form files or folders")
    deploy.add_argument("paths", nargs="+")
    deploy.add_argument("--name", default=None, help="deployment name")
    deploy.set_defaults(handler=cmd_deploy)

    layout = commands.add_parser("layout", help="lay out the diagrams (BPMNDI) of BPMN files, in place")
    layout.add_argument("paths", nargs="+", help=".bpmn files or folders of them")
    layout.add_argument(
        "--check", action="store_true", help="change nothing; fail naming the files whose diagram lacks elements"
    )
    layout.add_argument("--missing-only", action="store_true", help="lay out only files whose diagram lacks elements")
    layout.set_defaults(handler=cmd_layout)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply the migrations in migrations/").set_defaults(handler=cmd_db_upgrade)

    user = commands.add_parser("user", help="users")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    create = user_commands.add_parser("create", help="create a user")
    create.add_argument("name")
    create.add_argument("--group", action="append", help="a group to join (repeatable)")
    create.add_argument("--password", default=None, help="asked for when not given")
    create.add_argument("--first-name", default=None)
    create.add_argument("--last-name", default=None)
    create.add_argument("--email", default=None)
    create.set_defaults(handler=cmd_user_create)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return args.handler(settings, args)
    except PlusmaError as error:
        _print_error(error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
