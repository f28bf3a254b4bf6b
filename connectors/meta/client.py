"""HTTP client for the Meta Graph API (Marketing API insights), token in the Authorization header.

* Paging: ``paging.cursors.after`` sent back as ``after`` until ``paging.next`` is absent (the
  end signal). The ``next`` URL itself is not followed, so the token is never sent to a host
  the API names and never sits in a URL.
* Throttling is recognised by ``error.code`` (4, 17, 32, 613, 80000, 80004; the HTTP status is
  usually 400): wait ``estimated_time_to_regain_access`` from ``x-business-use-case-usage``
  (minutes, capped) or 5 × base × attempt. A usage share ≥ ``usage_pause_pct`` pauses before the
  next call.
* Transient (codes 1, 2, ``is_transient``), HTTP 5xx, timeouts: exponential back-off.
* 190 (bad or expired token) and permission codes: :class:`AuthError` naming the variable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import requests

from connectors.common import AuthError, ConnectorError, ProgressFn, no_progress
from connectors.http.client import JsonHttpClient, Retry, json_body
from connectors.http.redact import Secret
from connectors.meta import defaults
from connectors.meta.parse import AUTH_CODES, PERMISSION_CODES, THROTTLE_CODES, TRANSIENT_CODES, usage


class MetaClient(JsonHttpClient):
    api_name = "Meta"
    give_up_hint = (
        "Check META_BASE_URL and the network, or https://metastatus.com; re-running resumes from the last cursor."
    )

    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        api_version: str = defaults.API_VERSION,
        timeout_s: float = defaults.TIMEOUT_S,
        max_retries: int = defaults.MAX_RETRIES,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        max_retry_delay_s: float = defaults.MAX_RETRY_DELAY_S,
        usage_pause_pct: float = defaults.USAGE_PAUSE_PCT,
        session: requests.Session | None = None,
        progress: ProgressFn = no_progress,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not access_token:
            raise AuthError("No Meta access token. Set META_ACCESS_TOKEN to a system-user token with ads_read.")
        super().__init__(
            secrets=[access_token],
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            max_retry_after_s=max_retry_delay_s,
            session=session,
            progress=progress,
            sleep=sleep,
        )
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.usage_pause_pct = usage_pause_pct
        self.__token = Secret(access_token)
        self._pause_s = 0.0

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``/{version}/{path}``; the decoded body."""
        if self._pause_s:
            wait, self._pause_s = self._pause_s, 0.0
            self.report(f"Meta: business use-case usage is high; pausing {wait:.2f} s", {"wait_s": round(wait, 3)})
            self.wait(wait)
        url = f"{self.base_url}/{self.api_version}/{path.lstrip('/')}"
        return self.request("GET", url, f"GET /{path.lstrip('/')}", params=params, headers=self._headers)

    def iter_pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every page of a list edge, following ``cursors.after`` until ``paging.next`` is absent."""
        query = dict(params)
        while True:
            page = self.get(path, query)
            yield page
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next"):
                return
            if not after:
                raise ConnectorError(f"Meta {path}: paging.next without cursors.after; cannot continue safely.")
            query["after"] = after

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.__token.reveal()}", "Accept": "application/json"}

    def handle(self, resp: requests.Response, what: str, attempt: int) -> Any:
        status = resp.status_code
        body = json_body(resp)
        top, regain_min = usage(resp.headers.get("x-business-use-case-usage"))
        if 200 <= status < 300:
            if not isinstance(body, dict):
                raise ConnectorError(f"Meta {what} returned HTTP {status} with a body that is not a JSON object.")
            if top >= self.usage_pause_pct:
                self._pause_s = self.capped(regain_min * 60.0 if regain_min else 5.0 * self.backoff_base_s)
            return body
        error = (body or {}).get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        try:
            code = int(str(error.get("code"))) if error.get("code") is not None else None
        except (TypeError, ValueError):
            code = None
        sub = error.get("error_subcode")
        message = self.redact(str(error.get("message") or resp.reason or ""))[:300].rstrip(".")
        label = f"HTTP {status} code {code}" + (f"/{sub}" if sub else "")
        if code in THROTTLE_CODES:
            wait = regain_min * 60.0 if regain_min else 5.0 * self.backoff_base_s * attempt
            raise Retry(f"{label} (throttled: {message}) on {what}", self.capped(wait), rate_limited=True)
        if code in AUTH_CODES:
            raise AuthError(
                f"Meta rejected META_ACCESS_TOKEN on {what} ({label}: {message}). Create a new system-user "
                "token with the ads_read permission (code 190 subcode 463 = expired)."
            )
        if code in PERMISSION_CODES or status in {401, 403}:
            raise AuthError(
                f"Meta refused {what} ({label}: {message}). The token's user needs the ads_read permission "
                "on this ad account; or remove the account from META_AD_ACCOUNT_IDS."
            )
        if code in TRANSIENT_CODES or error.get("is_transient") or status >= 500:
            raise Retry(f"{label} on {what}", self.expo(attempt))
        hint = " Check META_AD_ACCOUNT_IDS (act_<digits>)." if code == 100 else ""
        raise ConnectorError(f"Meta {what} failed ({label}): {message}.{hint}")
