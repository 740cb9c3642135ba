"""The ``guanxi`` command.

Sub-commands that need the database (serve, migrate, demo, worker, token, ...) set up Django
lazily; ``guanxi analytics ...`` runs the pure engine on a file and never imports Django.
"""

from __future__ import annotations

import argparse
import os
import sys


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()


def _manage(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi", *argv])
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    port = args.port or os.environ.get("PORT", "8000")
    if args.production:
        workers = str(args.workers or os.cpu_count() or 2)
        os.execvp(
            sys.executable,
            [sys.executable, "-m", "gunicorn", "guanxi.wsgi", "--bind", f"{args.host}:{port}",
             "--workers", workers, "--access-logfile", "-"],
        )
    return _manage(["runserver", f"{args.host}:{port}", "--noreload"] if not args.reload
                   else ["runserver", f"{args.host}:{port}"])


def _cmd_migrate(args: argparse.Namespace) -> int:
    _manage(["migrate", "--noinput"])
    return _manage(["createcachetable"])


def _cmd_demo(args: argparse.Namespace) -> int:
    return _manage(["guanxi_demo", "--customers", str(args.customers), "--seed", str(args.seed)])


def _cmd_worker(args: argparse.Namespace) -> int:
    return _manage(["db_worker", *(["--batch"] if args.once else [])])


def _cmd_token(args: argparse.Namespace) -> int:
    return _manage(["guanxi_token", args.username, *(["--name", args.name] if args.name else [])])


def _cmd_user(args: argparse.Namespace) -> int:
    argv = ["guanxi_user", args.username, "--role", args.role]
    for flag in ("team", "name", "email", "password"):
        if getattr(args, flag):
            argv += [f"--{flag}", getattr(args, flag)]
    return _manage(argv)


def _cmd_manage(args: argparse.Namespace) -> int:
    return _manage(args.rest)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guanxi", description="Guanxi CRM")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web application")
    p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    p.add_argument("--port", default=None, help="port (default: $PORT or 8000)")
    p.add_argument("--production", action="store_true", help="serve with gunicorn")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--reload", action="store_true", help="reload on code changes")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("migrate", help="create or upgrade the database schema")
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser("demo", help="load demo data (idempotent)")
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("worker", help="run the background task worker")
    p.add_argument("--once", action="store_true", help="run queued tasks, then exit")
    p.set_defaults(func=_cmd_worker)

    p = sub.add_parser("token", help="print a new API token for a user")
    p.add_argument("username")
    p.add_argument("--name", default=None, help="a label for the token")
    p.set_defaults(func=_cmd_token)

    p = sub.add_parser("user", help="add a user with a role (e.g. the first administrator)")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--team", default=None)
    p.add_argument("--name", default=None)
    p.add_argument("--email", default=None)
    p.add_argument("--password", default=None)
    p.set_defaults(func=_cmd_user)

    p = sub.add_parser("manage", help="run a Django management command")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_manage)

    from guanxi.analytics import cli as analytics_cli

    analytics_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
