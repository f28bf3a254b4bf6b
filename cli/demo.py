"""`make demo`: build the sandbox CRM and ad accounts, serve them on loopback (one emulator per
API: HubSpot, Pipedrive, Google Ads and Meta render the same ground truth), run everything,
summarize each source.

The demo writes to its own warehouse (``data/demo/warehouse.duckdb`` unless WAREHOUSE_PATH is
set) so sandbox rows never mix with a real HubSpot account's raw tables, and pins AS_OF_DATE to
the sandbox's fixed end date so its numbers do not drift from day to day. The terminal shows
each step, one line per finished Dagster step, the summary and the report's path; the full
output (sandbox, Dagster, dbt) goes to ``data/demo/demo.log``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from cli.console import Console, DemoProgress, console_to_log
from cli.sandboxes import start_sandboxes
from core.settings import ROOT, resolve_path

STEPS = 6
LOG_FILE = ROOT / "data" / "demo" / "demo.log"


def _forget_warehouse_of_a_rebuilt_sandbox(db: Path, config, console: Console) -> None:
    """A sandbox rebuilt from a new generator version is another CRM: the demo's own warehouse
    (the default path only) would otherwise sync it incrementally over the old one's history."""
    from emulators.truth import store

    if os.environ.get("WAREHOUSE_PATH") != "data/demo/warehouse.duckdb" or not db.exists():
        return
    if store.read_config_json(db) == config.to_json():
        return
    warehouse = resolve_path(os.environ["WAREHOUSE_PATH"])
    for path in (warehouse, Path(str(warehouse) + ".wal")):
        if path.exists():
            console.say(f"    the sandbox changed: starting {path.relative_to(ROOT)} afresh")
            path.unlink()


def run_demo(*, deals: int = 600, contacts: int = 2000, seed: int = 7) -> int:
    with console_to_log(LOG_FILE) as console:
        console.say(f"make demo: the full log of every step goes to {LOG_FILE.relative_to(ROOT)}")
        code = _run_demo(console, deals=deals, contacts=contacts, seed=seed)
        if code != 0:
            console.say(f"\nThe demo failed: the errors are at the end of {LOG_FILE.relative_to(ROOT)}.")
        return code


def _run_demo(console: Console, *, deals: int, contacts: int, seed: int) -> int:
    from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of
    from emulators.truth.pipedrive import ensure_pipedrive_tables

    step = console.step_printer(STEPS)
    os.environ.setdefault("WAREHOUSE_PATH", "data/demo/warehouse.duckdb")
    sandbox_dir = ROOT / "data" / "sandbox"
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    db = sandbox_dir / f"hubspot-s{seed}-d{deals}-c{contacts}.sqlite"

    step(
        1,
        f"Building the sandbox CRM ({contacts} contacts, {deals} deals, seed {seed}) and its Google Ads and "
        f"Meta accounts in {db.relative_to(ROOT)}",
    )
    started = time.monotonic()
    config = SandboxConfig(seed=seed, n_contacts=contacts, n_deals=deals)
    _forget_warehouse_of_a_rebuilt_sandbox(db, config, console)
    build_sandbox(config, db)
    ensure_pipedrive_tables(db)  # files built before the Pipedrive view existed
    console.say(f"    ready in {time.monotonic() - started:.1f}s (rebuilt only when missing)")
    step(2, "Starting the sandbox HubSpot, Pipedrive, Google Ads and Meta APIs on loopback")
    sandboxes = start_sandboxes(db, sandbox_dir, str(LOG_FILE.relative_to(ROOT)))
    try:
        for api, url in sandboxes.urls.items():
            console.say(f"    {api:<10} {url}")
        as_of = end_date_of(db).isoformat()
        os.environ.update({**sandboxes.env, "AS_OF_DATE": as_of})
        step(
            3,
            f"Syncing HubSpot, Pipedrive, Google Ads and Meta into "
            f"{resolve_path(os.environ['WAREHOUSE_PATH']).relative_to(ROOT)} and building dbt "
            f"(as_of_date {as_of}): the `refresh_all` job, launched through the instance",
        )
        from cli.main import run_refresh

        code = run_refresh(on_event=DemoProgress(console))
        if code != 0:
            return code
        from cli.main import quarantine_message

        quarantined = quarantine_message()
        if quarantined:
            console.say("    " + quarantined)
        from core.settings import publish_dir
        from warehouse.summary import all_summary_lines

        marts_db = publish_dir() / "sales_marts.duckdb"
        step(4, "Summary")
        for line in all_summary_lines(marts_db):
            console.say("    " + line)
        console.say(f"\n    BI tools: open {marts_db.relative_to(ROOT)} read-only, or the Parquet files beside it.")
        step(5, "Writing the HTML report")
        from warehouse.report.build import write_report

        report = write_report(marts_db)
        console.say(f"    {report.relative_to(ROOT)} (open it in a browser; works offline)")
    finally:
        step(6, "Stopping the sandbox APIs")
        sandboxes.stop()
    console.say(
        "\nDone. Explore the runs, lineage and KPI plots with `make ui`; query the warehouse with duckdb (see README)."
    )
    return 0
