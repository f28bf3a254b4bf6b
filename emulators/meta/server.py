"""Meta Graph API look-alike over the sandbox's ad truth (``emulators.truth.ads``).

Endpoints (any ``v{NN}.0``): ``GET /act_{id}`` (account), ``GET /act_{id}/campaigns``,
``GET /act_{id}/insights`` (``level=campaign``, ``time_increment=1``, ``time_range``; metrics as
strings; ``actions`` lists ``lead``, ``onsite_conversion.lead_grouped`` and
``offsite_conversion.fb_pixel_lead`` with the same count, so summing every lead type double
counts; days without delivery are omitted). Cursor paging: ``paging.cursors.after`` and a full
``paging.next`` URL, absent on the last page.

Errors as Meta sends them, HTTP 400 with ``error.code``: 190 bad token, 100 unknown account or
bad parameter, 80000 when the business use-case budget (``bucu_calls_per_60s``) is used up, with
``x-business-use-case-usage`` on every answer. ``fail_rate`` failures: code 17 / 4 / 80000
throttles (HTTP 400) and code 2 transient (HTTP 500).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from emulators.jsonserver import JsonServer, Request, Response
from emulators.truth import ads

SANDBOX_TOKEN = "EAAsandboxmetatoken000000000000"
BUSINESS_ID = "1020304050607080"
_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/act_(?P<aid>[^/]+)(?:/(?P<edge>campaigns|insights))?$")
INSIGHT_FIELDS = {
    "campaign_id",
    "campaign_name",
    "account_currency",
    "account_id",
    "spend",
    "impressions",
    "clicks",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
}
CAMPAIGN_FIELDS = {"id", "name", "status", "effective_status", "objective", "created_time", "updated_time"}


def graph_error(code: int, message: str, *, subcode: int | None = None, status: int = 400, **extra: Any) -> Response:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCsandbox"}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update(extra)
    return Response(status, {"error": err})


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int | None:
    if not cursor:
        return 0
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.split(":", 1)[1]) if text.startswith("offset:") else None
    except (ValueError, UnicodeDecodeError):
        return None


def _money(micros: int) -> str:
    text = f"{micros / 1_000_000:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ms_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class MetaServer(JsonServer):
    name = "meta"

    def __init__(
        self,
        db_path: Path | str,
        *,
        token: str = SANDBOX_TOKEN,
        bucu_calls_per_60s: int | None = None,
        regain_minutes: int = 0,
        default_limit: int = 25,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"sandbox database not found: {self.db_path}")
        self._token = token
        self.bucu_calls_per_60s = bucu_calls_per_60s
        self.regain_minutes = regain_minutes
        self.default_limit = default_limit
        self._calls: deque[float] = deque()
        self._ulock = threading.Lock()

    def canonical_path(self, path: str) -> str:
        return re.sub(r"/act_\d+", "/act_{id}", re.sub(r"^/v\d+\.\d+", "/v{NN}", path))

    # -------------------------------------------------------------- usage and faults
    def _usage(self, count: bool) -> tuple[int, dict[str, str]]:
        now = time.monotonic()
        with self._ulock:
            while self._calls and self._calls[0] <= now - 60.0:
                self._calls.popleft()
            if count:
                self._calls.append(now)
            budget = self.bucu_calls_per_60s or 10_000
            pct = min(100, round(100 * len(self._calls) / budget))
        regain = self.regain_minutes if pct >= 100 else 0
        usage = {
            BUSINESS_ID: [
                {
                    "type": "ads_insights",
                    "call_count": pct,
                    "total_cputime": max(1, pct // 2),
                    "total_time": max(1, pct // 2),
                    "estimated_time_to_regain_access": regain,
                    "ads_api_access_tier": "standard_access",
                }
            ]
        }
        return pct, {"x-business-use-case-usage": json.dumps(usage)}

    def transient(self, request: Request) -> Response:  # noqa: ARG002
        _, headers = self._usage(count=False)
        pick = self._fail_rng.random()
        if pick < 0.3:
            r = graph_error(17, "(#17) User request limit reached", subcode=2446079, is_transient=True)
        elif pick < 0.5:
            r = graph_error(4, "(#4) Application request limit reached", subcode=1504022, is_transient=True)
        elif pick < 0.7:
            r = graph_error(80000, "There have been too many calls from this ad-account. Wait a bit and try again.")
        else:
            r = graph_error(
                2, "An unexpected error has occurred. Please retry your request later.", status=500, is_transient=True
            )
        r.headers.update(headers)
        return r

    # -------------------------------------------------------------- routing
    def handle(self, request: Request) -> Response:
        header = request.headers.get("authorization") or ""
        token = header[7:].strip() if header.startswith("Bearer ") else request.param("access_token") or ""
        if not hmac.compare_digest(token.encode(), self._token.encode()):
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        m = _PATH.match(request.path)
        if not m or request.method != "GET":
            return graph_error(100, "Unsupported get request. Please read the Graph API documentation", subcode=33)
        aid = m["aid"]
        account = next((a for a in ads.accounts(self.db_path, ads.META) if a["account_id"] == aid), None)
        if account is None:
            return graph_error(
                100,
                f"Unsupported get request. Object with ID 'act_{aid}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation.",
                subcode=33,
            )
        pct, headers = self._usage(count=True)
        if self.bucu_calls_per_60s is not None and pct >= 100:
            r = graph_error(
                80000, "There have been too many calls from this ad-account. Wait a bit and try again.", subcode=2446079
            )
            r.headers.update(headers)
            return r
        edge = m["edge"]
        if edge is None:
            resp = Response(
                200,
                {
                    "account_id": aid,
                    "id": f"act_{aid}",
                    "name": account["name"],
                    "currency": account["currency"],
                    "timezone_name": account["time_zone"],
                    "account_status": 1,
                },
            )
        elif edge == "campaigns":
            resp = self._campaigns(request, aid)
        else:
            resp = self._insights(request, account)
        resp.headers.update(headers)
        return resp

    def _fields(self, request: Request, allowed: set[str], default: list[str]) -> list[str] | Response:
        raw = request.param("fields")
        fields = [f.strip() for f in raw.split(",") if f.strip()] if raw else default
        bad = [f for f in fields if f not in allowed]
        if bad:
            return graph_error(100, f"(#100) {bad[0]} is not valid for fields param.")
        return fields

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.param("limit") or self.default_limit)
        except ValueError:
            return graph_error(100, "(#100) Param limit must be a number")
        offset = _offset(request.param("after"))
        if offset is None:
            return graph_error(100, "(#100) Invalid cursor in after")
        page = rows[offset : offset + limit]
        body: dict[str, Any] = {"data": page}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page))}}
            if offset + len(page) < len(rows):
                query = {k: v[0] for k, v in request.query.items() if k != "access_token"}
                query["after"] = _cursor(offset + len(page))
                body["paging"]["next"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        return Response(200, body)

    def _campaigns(self, request: Request, aid: str) -> Response:
        fields = self._fields(request, CAMPAIGN_FIELDS, ["id"])
        if isinstance(fields, Response):
            return fields
        rows = []
        for c in ads.campaigns(self.db_path, ads.META):
            if c["account_id"] != aid:
                continue
            full = {
                "id": c["campaign_id"],
                "name": c["name"],
                "status": c["status"],
                "effective_status": c["status"],
                "objective": c["objective"],
                "created_time": _ms_iso(c["created_ms"]),
                "updated_time": _ms_iso(c["updated_ms"]),
            }
            rows.append({f: full[f] for f in fields} | {"id": c["campaign_id"]})
        return self._page(request, rows)

    def _insights(self, request: Request, account: dict[str, Any]) -> Response:
        if request.param("level") != "campaign":
            return graph_error(100, "(#100) The sandbox serves insights at level=campaign only.")
        if request.param("time_increment") != "1":
            return graph_error(100, "(#100) The sandbox serves insights with time_increment=1 only.")
        try:
            time_range = json.loads(request.param("time_range") or "")
            since, until = str(time_range["since"]), str(time_range["until"])
        except (ValueError, KeyError, TypeError):
            return graph_error(100, "(#100) time_range must be a JSON object with since and until (YYYY-MM-DD)")
        if since > until:
            return graph_error(100, "(#100) time_range's since must not be after until")
        fields = self._fields(request, INSIGHT_FIELDS, ["spend", "impressions", "date_start", "date_stop"])
        if isinstance(fields, Response):
            return fields
        names = {c["campaign_id"]: c["name"] for c in ads.campaigns(self.db_path, ads.META)}
        rows = []
        for s in ads.stats(self.db_path, ads.META, account["account_id"], since, until):
            full: dict[str, Any] = {
                "account_id": account["account_id"],
                "campaign_id": s["campaign_id"],
                "campaign_name": names[s["campaign_id"]],
                "account_currency": account["currency"],
                "spend": _money(s["spend_micros"]),
                "impressions": str(s["impressions"]),
                "clicks": str(s["clicks"]),
                "date_start": s["day"],
                "date_stop": s["day"],
            }
            actions = []
            if s["clicks"]:
                actions.append({"action_type": "link_click", "value": str(s["clicks"])})
            if s["lead_actions"]:
                n = str(s["lead_actions"])
                actions += [
                    {"action_type": "lead", "value": n},
                    {"action_type": "onsite_conversion.lead_grouped", "value": n},
                    {"action_type": "offsite_conversion.fb_pixel_lead", "value": n},
                ]
            if actions:
                full["actions"] = actions
                if s["lead_actions"]:
                    full["action_values"] = [{"action_type": "lead", "value": _money(s["lead_actions"] * 90_000_000)}]
            rows.append({f: full[f] for f in fields if f in full})
        return self._page(request, rows)
