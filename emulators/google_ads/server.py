"""Google Ads API look-alike over the sandbox's ad truth (``emulators.truth.ads``).

Endpoints: ``POST /token`` (OAuth refresh-token grant), ``GET /v{N}/customers:listAccessibleCustomers``,
``POST /v{N}/customers/{id}:searchStream`` (JSON array of batches of ``batch_rows`` results;
lowerCamelCase; int64 as strings; zero metrics left out, as proto3 JSON does).

Checks per API call, in order: bearer access token issued by ``/token`` and not expired (401
UNAUTHENTICATED), developer token (401 if wrong; 403 DEVELOPER_TOKEN_NOT_APPROVED if not
``dev_token_approved``), customer id format (400), access: an account under a manager needs
``login-customer-id`` (403 USER_PERMISSION_DENIED), burst quota (429
RESOURCE_TEMPORARILY_EXHAUSTED with ``retryDelay``), daily quota (429 RESOURCE_EXHAUSTED), GAQL
(400 queryError). ``fail_rate`` failures are 503 UNAVAILABLE or 429 with ``retryDelay``, served
before any batch (a searchStream never fails part-way here).
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulators.google_ads.gaql import QueryError, parse
from emulators.jsonserver import JsonServer, Request, Response
from emulators.truth import ads

SANDBOX_CREDENTIALS = {
    "developer_token": "sandbox-dev-token",
    "client_id": "sandbox-client.apps.googleusercontent.com",
    "client_secret": "sandbox-client-secret",
    "refresh_token": "1//sandbox-refresh-token",
}
_STREAM = re.compile(r"^/v\d+/customers/(?P<cid>[^/:]+)/googleAds:searchStream$")
_LIST = re.compile(r"^/v\d+/customers:listAccessibleCustomers$")
API_VERSION_PREFIX = "v26"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def failure(status: int, grpc: str, message: str, code: tuple[str, str] | None = None, **details: Any) -> Response:
    errors = []
    if code:
        err: dict[str, Any] = {"errorCode": {code[0]: code[1]}, "message": message}
        if details:
            err["details"] = details
        errors.append(err)
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": grpc,
            "details": [
                {
                    "@type": f"type.googleapis.com/google.ads.googleads.{API_VERSION_PREFIX}.errors.GoogleAdsFailure",
                    "errors": errors,
                    "requestId": uuid.uuid4().hex[:22],
                }
            ],
        }
    }
    return Response(status, body)


def quota_error(code: str, retry_delay_s: float | None) -> Response:
    details = {}
    if retry_delay_s is not None:
        details = {
            "quotaErrorDetails": {
                "rateScope": "DEVELOPER",
                "rateName": "Number of operations for basic access",
                "retryDelay": f"{retry_delay_s:g}s",
            }
        }
    message = (
        f"Too many requests. Retry in {retry_delay_s:g} seconds."
        if retry_delay_s is not None
        else "Resource has been exhausted (e.g. check quota)."
    )
    return failure(429, "RESOURCE_EXHAUSTED", message, ("quotaError", code), **details)


class GoogleAdsServer(JsonServer):
    name = "google_ads"

    def __init__(
        self,
        db_path: Path | str,
        *,
        credentials: dict[str, str] | None = None,
        dev_token_approved: bool = True,
        token_ttl_s: float = 3599.0,
        batch_rows: int = 10_000,
        burst_per_10s: int | None = None,
        daily_limit: int | None = None,
        retry_delay_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.db_path = Path(db_path)
        if not self.db_path.exists():
            raise FileNotFoundError(f"sandbox database not found: {self.db_path}")
        self.credentials = dict(credentials or SANDBOX_CREDENTIALS)
        self.dev_token_approved = dev_token_approved
        self.token_ttl_s = token_ttl_s
        self.batch_rows = batch_rows
        self.burst_per_10s = burst_per_10s
        self.daily_limit = daily_limit
        self.retry_delay_s = retry_delay_s
        self._tokens: dict[str, float] = {}
        self._calls: deque[float] = deque()
        self._daily_used = 0
        self._qlock = threading.Lock()
        self.tokens_issued = 0

    def canonical_path(self, path: str) -> str:
        return re.sub(r"/customers/\d+", "/customers/{id}", re.sub(r"^/v\d+", "/v{N}", path))

    def transient(self, request: Request) -> Response:
        if request.path == "/token" or self._fail_rng.random() < 0.5:
            return failure(503, "UNAVAILABLE", "The service is currently unavailable.")
        return quota_error("RESOURCE_TEMPORARILY_EXHAUSTED", self.retry_delay_s)

    def expire_tokens(self) -> None:
        """Test hook: every issued access token expires now (the next call gets a 401)."""
        self._tokens.clear()

    # -------------------------------------------------------------- routing
    def handle(self, request: Request) -> Response:
        if request.path == "/token" and request.method == "POST":
            return self._token(request)
        if not self._authorized(request):
            return failure(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token.",
                ("authenticationError", "OAUTH_TOKEN_INVALID"),
            )
        dev = request.headers.get("developer-token") or ""
        if not hmac.compare_digest(dev.encode(), self.credentials["developer_token"].encode()):
            return failure(
                401,
                "UNAUTHENTICATED",
                "The developer token is not valid.",
                ("authenticationError", "DEVELOPER_TOKEN_INVALID"),
            )
        if not self.dev_token_approved:
            return failure(
                403,
                "PERMISSION_DENIED",
                "The developer token is only approved for use with test accounts.",
                ("authorizationError", "DEVELOPER_TOKEN_NOT_APPROVED"),
            )
        if _LIST.match(request.path) and request.method == "GET":
            names = [f"customers/{a['account_id']}" for a in ads.accounts(self.db_path, ads.GOOGLE)]
            return Response(200, {"resourceNames": names})
        m = _STREAM.match(request.path)
        if not m or request.method != "POST":
            return Response(404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}})
        return self._search_stream(request, m["cid"])

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization") or ""
        if not header.startswith("Bearer "):
            return False
        expires = self._tokens.get(header[7:].strip())
        return expires is not None and time.monotonic() < expires

    def _token(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
        ok_client = hmac.compare_digest(
            (form.get("client_id") or "").encode(), self.credentials["client_id"].encode()
        ) and hmac.compare_digest(
            (form.get("client_secret") or "").encode(), self.credentials["client_secret"].encode()
        )
        if not ok_client:
            return Response(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if not hmac.compare_digest(
            (form.get("refresh_token") or "").encode(), self.credentials["refresh_token"].encode()
        ):
            return Response(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + self.token_ttl_s
        self.tokens_issued += 1
        return Response(
            200,
            {
                "access_token": token,
                "expires_in": int(self.token_ttl_s),
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            },
        )

    def _quota(self) -> Response | None:
        now = time.monotonic()
        with self._qlock:
            if self.daily_limit is not None and self._daily_used >= self.daily_limit:
                return quota_error("RESOURCE_EXHAUSTED", None)
            while self._calls and self._calls[0] <= now - 10.0:
                self._calls.popleft()
            if self.burst_per_10s is not None and len(self._calls) >= self.burst_per_10s:
                return quota_error("RESOURCE_TEMPORARILY_EXHAUSTED", self.retry_delay_s)
            self._calls.append(now)
            self._daily_used += 1
        return None

    # -------------------------------------------------------------- searchStream
    def _search_stream(self, request: Request, cid: str) -> Response:
        if not re.fullmatch(r"\d{10}", cid):
            return failure(400, "INVALID_ARGUMENT", "Invalid customer ID.", ("requestError", "INVALID_CUSTOMER_ID"))
        account = next((a for a in ads.accounts(self.db_path, ads.GOOGLE) if a["account_id"] == cid), None)
        login = (request.headers.get("login-customer-id") or "").replace("-", "")
        if account is None or (account["manager_id"] and login not in {account["manager_id"], cid}):
            return failure(
                403,
                "PERMISSION_DENIED",
                "User doesn't have permission to access customer. Note: If you're accessing a client customer, "
                "the manager's customer id must be set in the 'login-customer-id' header.",
                ("authorizationError", "USER_PERMISSION_DENIED"),
            )
        limited = self._quota()
        if limited is not None:
            return limited
        try:
            query = parse((request.json() or {}).get("query", ""), datetime.now(UTC).date())
        except (QueryError, ValueError) as exc:
            code = exc.code if isinstance(exc, QueryError) else "UNEXPECTED_END_OF_QUERY"
            return failure(400, "INVALID_ARGUMENT", str(exc), ("queryError", code))
        rows = self._rows(account, query)
        if query.limit is not None:
            rows = rows[: query.limit]
        mask = ",".join(".".join(_camel(p) for p in f.split(".")) for f in query.fields)
        request_id = uuid.uuid4().hex[:22]
        batches = [
            {"results": rows[i : i + self.batch_rows], "fieldMask": mask, "requestId": request_id}
            for i in range(0, len(rows), self.batch_rows)
        ] or [{"fieldMask": mask, "requestId": request_id}]
        return Response(200, batches)

    def _rows(self, account: dict[str, Any], query: Any) -> list[dict[str, Any]]:
        cid = account["account_id"]
        customer = {
            "id": cid,
            "descriptive_name": account["name"],
            "currency_code": account["currency"],
            "time_zone": account["time_zone"],
        }
        if query.resource == "customer":
            return [_render(query.fields, {"customer": customer}, cid)]
        campaigns = {c["campaign_id"]: c for c in ads.campaigns(self.db_path, ads.GOOGLE) if c["account_id"] == cid}
        if "segments.date" not in query.fields and not any(f.startswith("metrics.") for f in query.fields):
            return [_render(query.fields, {"customer": customer, "campaign": c}, cid) for c in campaigns.values()]
        out = []
        for s in ads.stats(self.db_path, ads.GOOGLE, cid, query.since.isoformat(), query.until.isoformat()):
            c = campaigns[s["campaign_id"]]
            metrics = {
                "cost_micros": s["spend_micros"],
                "clicks": s["clicks"],
                "impressions": s["impressions"],
                "conversions": s["conversions"],
                "conversions_value": s["conversions"] * 120.0,
            }
            out.append(
                _render(query.fields, {"customer": customer, "campaign": c, "metrics": metrics, "segments": s}, cid)
            )
        return out


_INT64 = {"customer.id", "campaign.id", "metrics.cost_micros", "metrics.clicks", "metrics.impressions"}


def _render(fields: tuple[str, ...], data: dict[str, dict[str, Any]], cid: str) -> dict[str, Any]:
    """One result in REST JSON: selected fields only, lowerCamelCase, int64 as strings, zero
    metrics left out (proto3 default values are not serialized)."""
    out: dict[str, Any] = {}
    for f in fields:
        resource, attr = f.split(".", 1)
        src = data.get(resource, {})
        if resource == "campaign":
            value = {"id": src["campaign_id"], "name": src["name"], "status": src["status"]}[attr]
        elif resource == "segments":
            value = src["day"]
        else:
            value = src[attr]
        if resource == "metrics" and not value:
            continue
        if f in _INT64:
            value = str(int(value))
        node = out.setdefault(resource, {})
        node[_camel(attr)] = value
    if "customer" in out:
        out["customer"]["resourceName"] = f"customers/{cid}"
    if "campaign" in out:
        out["campaign"]["resourceName"] = f"customers/{cid}/campaigns/{data['campaign']['campaign_id']}"
    return out
