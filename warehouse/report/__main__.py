"""python -m warehouse.report [--marts PATH] [--out PATH]: write the HTML report, print its path."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.settings import publish_dir
from warehouse.report.build import MARTS_FILE, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.report", description=__doc__)
    parser.add_argument("--marts", type=Path, help=f"the published marts (default: <publish dir>/{MARTS_FILE})")
    parser.add_argument("--out", type=Path, help="the HTML file (default: report.html beside the marts)")
    args = parser.parse_args(argv)
    marts = args.marts or publish_dir() / MARTS_FILE
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
