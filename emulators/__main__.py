"""CLI: ``python -m emulators build|serve|info``.

    build --out PATH [--deals N --contacts N --seed N --months N] [--scenario NAME]
    serve --db PATH [--build-if-missing ...] [--port 0] [--port-file FILE]
          [--token TOKEN | env SANDBOX_TOKEN] [--rate-limit-per-10s N] [--search-rate-per-s N]
          [--daily-limit N] [--api hubspot|pipedrive|google_ads|meta] [--rate-limit-per-2s N]
          [--fail-rate F] [--latency-ms MS | env HUBSPOT_EMULATOR_LATENCY_MS]

``--api pipedrive`` serves the Pipedrive API over the same ground truth; ``--api google_ads`` the
Google Ads API (OAuth token endpoint at ``/token``; credentials from env
SANDBOX_GOOGLE_ADS_DEVELOPER_TOKEN, _CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN, else the sandbox
defaults); ``--api meta`` the Meta Graph API (token: --token / SANDBOX_TOKEN).
    info  --db PATH      -> JSON with end_date and counts

``serve`` writes ``http://127.0.0.1:PORT`` to the port file once it is listening, prints one
line saying where it listens (never the token) and exits cleanly on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from emulators.hubspot.server import SandboxServer
from emulators.pipedrive.server import PipedriveServer
from emulators.truth import store
from emulators.truth.generator import SandboxConfig, build_sandbox, end_date_of


def _config(args: argparse.Namespace) -> SandboxConfig:
    base = SandboxConfig()
    return SandboxConfig(
        seed=base.seed if args.seed is None else args.seed,
        n_contacts=base.n_contacts if args.contacts is None else args.contacts,
        n_deals=base.n_deals if args.deals is None else args.deals,
        months=base.months if args.months is None else args.months,
        scenario=getattr(args, "scenario", None),  # anomaly-scenario hook (default: none)
    )


def _add_size(p: argparse.ArgumentParser) -> None:
    p.add_argument("--deals", type=int)
    p.add_argument("--contacts", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--months", type=int)
    # anomaly-scenario hook: inject a known anomaly (evaluation/scenarios.py)
    p.add_argument("--scenario", help="inject an anomaly scenario (see evaluation.scenarios)")


def cmd_build(args: argparse.Namespace) -> int:
    path = build_sandbox(_config(args), Path(args.out))
    print(json.dumps({"db": str(path), "end_date": end_date_of(path).isoformat(), **store.counts(path)}))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    path = Path(args.db)
    if not path.exists():
        print(f"no sandbox at {path}", file=sys.stderr)
        return 2
    conn = store.connect(path, readonly=True)
    try:
        meta = store.read_meta(conn)
    finally:
        conn.close()
    print(
        json.dumps(
            {
                "db": str(path),
                "end_date": meta["end_date"],
                "config": json.loads(meta["config"]),
                "mutations": int(meta.get("mutations", "0")),
                **store.counts(path),
            }
        )
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    path = Path(args.db)
    if args.build_if_missing:
        build_sandbox(_config(args), path)
    elif not path.exists():
        print(f"no sandbox at {path} (use --build-if-missing)", file=sys.stderr)
        return 2
    token = args.token or os.environ.get("SANDBOX_TOKEN") or "sandbox-token"
    server: Any
    if args.api == "pipedrive":
        server = PipedriveServer(
            path,
            token=token,
            rate_limit_per_2s=args.rate_limit_per_2s,
            daily_limit=args.daily_limit,
            fail_rate=args.fail_rate,
            port=args.port,
        )
    else:
        server = _ad_server(args, path) if args.api != "hubspot" else None
    if server is None:
        server = SandboxServer(
            path,
            token=token,
            rate_limit_per_10s=args.rate_limit_per_10s,
            search_rate_per_s=args.search_rate_per_s,
            daily_limit=args.daily_limit,
            latency_ms=args.latency_ms,
            port=args.port,
        )
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:  # noqa: ARG001
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    url = server.start()
    if args.port_file:
        tmp = Path(args.port_file).with_name(Path(args.port_file).name + ".tmp")
        tmp.write_text(url + "\n")
        os.replace(tmp, args.port_file)
    label = {"hubspot": "HubSpot", "pipedrive": "Pipedrive", "google_ads": "Google Ads", "meta": "Meta"}[args.api]
    print(f"sandbox {label} API listening on {url} (db={path})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _ad_server(args: argparse.Namespace, path: Path):  # noqa: ANN202
    """The Google Ads or Meta emulator (the same sandbox file holds the ad truth)."""
    if args.api == "google_ads":
        from emulators.google_ads.server import SANDBOX_CREDENTIALS, GoogleAdsServer

        creds = {k: os.environ.get(f"SANDBOX_GOOGLE_ADS_{k.upper()}") or v for k, v in SANDBOX_CREDENTIALS.items()}
        return GoogleAdsServer(path, credentials=creds, fail_rate=args.fail_rate, port=args.port)
    from emulators.meta.server import SANDBOX_TOKEN, MetaServer

    meta_token = args.token or os.environ.get("SANDBOX_TOKEN") or SANDBOX_TOKEN
    return MetaServer(path, token=meta_token, fail_rate=args.fail_rate, port=args.port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="generate a sandbox SQLite file")
    b.add_argument("--out", required=True)
    _add_size(b)
    s = sub.add_parser("serve", help="serve a sandbox file over HTTP")
    s.add_argument("--db", required=True)
    s.add_argument("--build-if-missing", action="store_true")
    _add_size(s)
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--port-file")
    s.add_argument("--token", help="bearer token to accept (default: $SANDBOX_TOKEN)")
    s.add_argument("--rate-limit-per-10s", type=int)
    s.add_argument("--search-rate-per-s", type=int)
    s.add_argument("--daily-limit", type=int)
    s.add_argument(
        "--latency-ms",
        type=float,
        help="HubSpot only: simulated round trip added to every answer (default: env HUBSPOT_EMULATOR_LATENCY_MS, else 0)",
    )
    s.add_argument("--api", choices=("hubspot", "pipedrive", "google_ads", "meta"), default="hubspot")
    s.add_argument("--rate-limit-per-2s", type=int, help="Pipedrive burst limit per rolling 2 s")
    s.add_argument("--fail-rate", type=float, default=0.0, help="share of requests failing transiently (not HubSpot)")
    i = sub.add_parser("info", help="print end date and counts as JSON")
    i.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    return {"build": cmd_build, "serve": cmd_serve, "info": cmd_info}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
