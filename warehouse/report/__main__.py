"""python -m warehouse.report [--marts PATH] [--out PATH]: write the HTML report, print its path."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.settings import ROOT, publish_dir
from warehouse.report.build import MARTS_FILE, write_report

DEMO_MARTS = ROOT / "data" / "demo" / "published" / MARTS_FILE


def default_marts() -> Path:
    """The configured warehouse's published marts; with nothing configured and nothing published
    there, the demo's (`make demo` then `make report` just works)."""
    configured = publish_dir() / MARTS_FILE
    chosen_by_env = os.environ.get("WAREHOUSE_PATH") or os.environ.get("WAREHOUSE_PUBLISH_DIR")
    if not configured.exists() and not chosen_by_env and DEMO_MARTS.exists():
        return DEMO_MARTS
    return configured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.report", description=__doc__)
    parser.add_argument("--marts", type=Path, help=f"the published marts (default: <publish dir>/{MARTS_FILE})")
    parser.add_argument("--out", type=Path, help="the HTML file (default: report.html beside the marts)")
    args = parser.parse_args(argv)
    marts = args.marts or default_marts()
    if not marts.exists():
        print(
            f"error: {marts} does not exist: run `make demo` (sandbox) or `make run` first, "
            "or point WAREHOUSE_PATH / WAREHOUSE_PUBLISH_DIR at a warehouse that has published marts.",
            file=sys.stderr,
        )
        return 2
    print(write_report(marts, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
