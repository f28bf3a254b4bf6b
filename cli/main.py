"""Command-line entry points behind `make run`, `make demo` and `make reset-cursors`.

python -m cli.main run            # every configured source, then dbt build
python -m cli.main demo           # the same against the built-in sandbox APIs
python -m cli.main reset-cursors --source hubspot [--stream deals]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from core.settings import SettingsError, as_of_date, spark_warehouse_dir, warehouse_path, warehouse_target
from orchestration.instance import prepare_dagster_home, prepare_dbt_manifest

EXIT_OK, EXIT_FAILED, EXIT_NOT_CONFIGURED = 0, 1, 2


def configured_sources() -> list[str]:
    from core.sources import configured_source_names

    return configured_source_names()


def no_source_message() -> str:
    from core.sources import ALL_CREDENTIAL_ENV

    return (
        "No source is configured: set at least one of "
        + ", ".join(ALL_CREDENTIAL_ENV)
        + " (see the README's configuration table), or run `make demo` to try the warehouse "
        "against the built-in sandbox APIs."
    )


def run_refresh(on_event=None) -> int:
    """Launch the `refresh_all` job of the code location through DAGSTER_HOME's instance and
    wait for it (cli/launch.py): the run shows on the job page of `make ui`."""
    prepare_dagster_home()
    prepare_dbt_manifest()
    from cli.launch import launch_job
    from orchestration.definitions import REFRESH_JOB_NAME

    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    log_level = os.environ.get("LOG_LEVEL", "INFO")
    result = launch_job(
        REFRESH_JOB_NAME,
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        tags={"launched_by": "cli"},
        **({"on_event": on_event} if on_event else {}),
    )
    if result.success:
        print(f"Run {result.run_id} succeeded. Warehouse: {warehouse_description()}")
        message = quarantine_message()
        if message:
            print(message)
        return EXIT_OK
    print(
        f"Run {result.run_id} FAILED ({result.status}) in step(s): {', '.join(result.failed_steps) or 'unknown'}. "
        "The errors are in the log above and in the Dagster UI (`make ui`, Runs tab).",
        file=sys.stderr,
    )
    return EXIT_FAILED


def quarantine_message() -> str | None:
    """How many records the run quarantined and where to look (docs/metrics.md, "Quarantine"),
    read from the published marts; None when nothing is quarantined. A quarantine never fails the
    run: the marts are built and published without those records."""
    from core.settings import publish_dir
    from warehouse.quarantine import read_summary, run_message

    published = publish_dir() / "sales_marts.duckdb"
    return run_message(read_summary(published), published)


def warehouse_description() -> str:
    """Where the marts are, for the closing line of a run (README "Engines")."""
    target = warehouse_target()
    if target == "postgres":
        return f"PostgreSQL database {os.environ.get('PGDATABASE') or os.environ.get('PGUSER') or '(libpq default)'}"
    if target == "spark":
        return f"Spark tables under {spark_warehouse_dir()} (raw landing file {warehouse_path()})"
    return str(warehouse_path())


def cmd_run(_: argparse.Namespace) -> int:
    try:
        as_of_date()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_CONFIGURED
    sources = configured_sources()
    if not sources:
        print(f"error: {no_source_message()}", file=sys.stderr)
        return EXIT_NOT_CONFIGURED
    print(f"Sources configured: {', '.join(sources)}; as_of_date {as_of_date().isoformat()}.")
    return run_refresh()


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(deals=args.deals, contacts=args.contacts, seed=args.seed)


def cmd_reset_cursors(args: argparse.Namespace) -> int:
    from core.sources import SOURCES
    from warehouse.engines import open_raw_loader

    source = next((s for s in SOURCES if s.name == args.source), None)
    if source is None:
        print(f"error: unknown source {args.source!r}; known: {', '.join(s.name for s in SOURCES)}", file=sys.stderr)
        return EXIT_FAILED
    path = warehouse_path()
    if warehouse_target() != "postgres" and not path.exists():
        print(f"Nothing to reset: {path} does not exist yet.")
        return EXIT_OK
    with open_raw_loader(path, source) as loader:
        n = loader.reset_cursors(args.stream or None)
    what = ", ".join(args.stream) if args.stream else "all streams"
    print(f"Reset {n} cursor(s) of {source.name} ({what}); the next run resyncs from scratch.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.main", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="materialize every asset against the configured APIs").set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="run everything against the built-in sandbox")
    demo.add_argument("--deals", type=int, default=600)
    demo.add_argument("--contacts", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)
    reset = sub.add_parser("reset-cursors", help="forget a source's cursors (next run = full resync)")
    reset.add_argument("--source", required=True)
    reset.add_argument("--stream", action="append", help="only this stream (repeatable)")
    reset.set_defaults(func=cmd_reset_cursors)
    args = parser.parse_args(argv)
    started = time.monotonic()
    code = args.func(args)
    if args.command != "reset-cursors":
        print(f"({time.monotonic() - started:.0f}s)")
    return code


if __name__ == "__main__":
    sys.exit(main())
