"""HTTP client for the Google Ads API (REST): OAuth refresh-token flow, GAQL over searchStream.

* Access token: ``POST GOOGLE_ADS_TOKEN_URL`` with ``grant_type=refresh_token`` (client id and
  secret, refresh token), cached until a minute before ``expires_in``; a 401 on an API call
  refreshes it once and retries.
* Headers on every call: ``Authorization: Bearer``, ``developer-token``, and
  ``login-customer-id`` when a manager account is configured.
* ``searchStream`` answers a JSON array of batches; :func:`search_stream` returns the rows.
* 429 ``RESOURCE_TEMPORARILY_EXHAUSTED`` (and the other short-term quota errors): wait the
  error's ``retryDelay`` (capped), else 10 × base × attempt. ``RESOURCE_EXHAUSTED`` (the daily
  operations quota) fails at once: it lasts until the next day.
* 500/502/503/504, timeouts, connection errors: exponential back-off.
* 401/403: :class:`AuthError` at once, naming the variable to fix (``DEVELOPER_TOKEN_NOT_APPROVED``,
  ``USER_PERMISSION_DENIED``, ``CUSTOMER_NOT_ENABLED``, bad OAuth client or refresh token).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from connectors.common import AuthError, ConnectorError, ProgressFn, RateLimitExhausted, no_progress
from connectors.google_ads import defaults
from connectors.google_ads.parse import error_codes, flatten_stream, retry_delay_s
from connectors.http.client import JsonHttpClient, Retry, json_body
from connectors.http.redact import Secret

_RETRY_STATUSES = {500, 502, 503, 504}

_AUTHZ_HINTS = {
    "DEVELOPER_TOKEN_NOT_APPROVED": (
        "the developer token (GOOGLE_ADS_DEVELOPER_TOKEN) is approved for test accounts only. Apply "
        "for Basic or Standard access in the manager account's API Center, or use test accounts."
    ),
    "DEVELOPER_TOKEN_PROHIBITED": (
        "this developer token may not be used with this Google Cloud project; use the token of the "
        "manager account the OAuth client belongs to (GOOGLE_ADS_DEVELOPER_TOKEN)."
    ),
    "USER_PERMISSION_DENIED": (
        "the OAuth user cannot reach this customer directly. If access goes through a manager "
        "account, set GOOGLE_ADS_LOGIN_CUSTOMER_ID to that manager's 10-digit id; otherwise grant "
        "the user access to the account or remove it from GOOGLE_ADS_CUSTOMER_IDS."
    ),
    "CUSTOMER_NOT_ENABLED": (
        "the account is not enabled (cancelled or never finished setup); remove it from GOOGLE_ADS_CUSTOMER_IDS."
    ),
}


class GoogleAdsClient(JsonHttpClient):
    """``search_stream(customer_id, query)`` -> result rows; ``stats`` counts calls and waits."""

    api_name = "Google Ads"
    give_up_hint = (
        "Check GOOGLE_ADS_BASE_URL and the network, or https://ads.google.com/status; re-running "
        "resumes from the last committed cursor."
    )

    def __init__(
        self,
        base_url: str,
        token_url: str,
        *,
        developer_token: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        login_customer_id: str | None = None,
        api_version: str = defaults.API_VERSION,
        timeout_s: float = defaults.TIMEOUT_S,
        max_retries: int = defaults.MAX_RETRIES,
        backoff_base_s: float = defaults.BACKOFF_BASE_S,
        max_retry_delay_s: float = defaults.MAX_RETRY_DELAY_S,
        session: requests.Session | None = None,
        progress: ProgressFn = no_progress,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        missing = [
            n
            for n, v in (
                ("GOOGLE_ADS_DEVELOPER_TOKEN", developer_token),
                ("GOOGLE_ADS_CLIENT_ID", client_id),
                ("GOOGLE_ADS_CLIENT_SECRET", client_secret),
                ("GOOGLE_ADS_REFRESH_TOKEN", refresh_token),
            )
            if not v
        ]
        if missing:
            raise AuthError(f"Google Ads is missing {', '.join(missing)}: set all four (see the README).")
        super().__init__(
            secrets=[developer_token, client_secret, refresh_token],
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            max_retry_after_s=max_retry_delay_s,
            session=session,
            progress=progress,
            sleep=sleep,
        )
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.api_version = api_version
        self.login_customer_id = login_customer_id or None
        self.client_id = client_id
        self.__developer_token = Secret(developer_token)
        self.__client_secret = Secret(client_secret)
        self.__refresh_token = Secret(refresh_token)
        self.__access: Secret | None = None
        self._access_expires = 0.0
        self._clock = clock
        self._refreshed_after_401 = False
        self.stats["token_refreshes"] = 0

    # ------------------------------------------------------------------ public
    def search_stream(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        """Every result row of one GAQL query on one customer (10-digit id, no dashes)."""
        url = f"{self.base_url}/{self.api_version}/customers/{customer_id}/googleAds:searchStream"
        self._refreshed_after_401 = False
        body = self.request(
            "POST", url, f"searchStream customers/{customer_id}", json={"query": query}, headers=self._headers
        )
        return flatten_stream(body)

    def list_accessible_customers(self) -> list[str]:
        url = f"{self.base_url}/{self.api_version}/customers:listAccessibleCustomers"
        self._refreshed_after_401 = False
        body = self.request("GET", url, "customers:listAccessibleCustomers", headers=self._headers)
        return [str(n).rsplit("/", 1)[-1] for n in (body or {}).get("resourceNames") or []]

    # ------------------------------------------------------------------ OAuth
    def _access_token(self) -> str:
        if self.__access is None or self._clock() >= self._access_expires:
            self._refresh()
        assert self.__access is not None
        return self.__access.reveal()

    def _refresh(self) -> None:
        data = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.__client_secret.reveal(),
            "refresh_token": self.__refresh_token.reveal(),
        }
        body = self.request("POST", self.token_url, "POST OAuth token", data=data, handler=self._handle_token)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthError("The OAuth token endpoint (GOOGLE_ADS_TOKEN_URL) answered without an access_token.")
        self.__access = Secret(str(token))
        self._access_expires = self._clock() + max(0.0, float(body.get("expires_in") or 3600) - 60.0)
        self.stats["token_refreshes"] += 1
        self.report("Google Ads: OAuth access token refreshed", {"token_refreshes": self.stats["token_refreshes"]})

    def _handle_token(self, resp: requests.Response, what: str, attempt: int) -> Any:
        status = resp.status_code
        body = json_body(resp)
        if 200 <= status < 300 and isinstance(body, dict):
            return body
        if status in _RETRY_STATUSES or status == 429:
            raise Retry(f"HTTP {status} on {what}", self.expo(attempt), rate_limited=status == 429)
        err = str((body or {}).get("error") or "") if isinstance(body, dict) else ""
        if err == "invalid_grant":
            raise AuthError(
                "Google rejected GOOGLE_ADS_REFRESH_TOKEN (invalid_grant: expired or revoked). Create a "
                "new refresh token for the OAuth client with the https://www.googleapis.com/auth/adwords scope."
            )
        if err in {"invalid_client", "unauthorized_client"} or status == 401:
            raise AuthError(
                f"Google rejected the OAuth client ({err or status}). Check GOOGLE_ADS_CLIENT_ID and "
                "GOOGLE_ADS_CLIENT_SECRET (the refresh token must belong to that client)."
            )
        raise AuthError(
            f"The OAuth token endpoint answered HTTP {status} {self.redact(err)}. Check GOOGLE_ADS_TOKEN_URL."
        )

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._access_token()}",
            "developer-token": self.__developer_token.reveal(),
            "Accept": "application/json",
        }
        if self.login_customer_id:
            headers["login-customer-id"] = self.login_customer_id
        return headers

    # ------------------------------------------------------------------ answers
    def handle(self, resp: requests.Response, what: str, attempt: int) -> Any:
        status = resp.status_code
        body = json_body(resp)
        if 200 <= status < 300:
            if body is None:
                raise ConnectorError(f"Google Ads {what} returned HTTP {status} with a body that is not JSON.")
            return body
        error = (body or {}).get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        codes = error_codes(error)
        message = self.redact(str(error.get("message") or resp.reason or ""))[:300]
        if status == 401:
            if not self._refreshed_after_401:
                self._refreshed_after_401 = True
                self.__access = None  # refresh and try once more
                raise Retry(f"HTTP 401 on {what} (access token expired)", 0.0)
            raise AuthError(
                f"Google Ads rejected the credentials on {what} (401 UNAUTHENTICATED) even after a token "
                "refresh. Check GOOGLE_ADS_CLIENT_ID, GOOGLE_ADS_CLIENT_SECRET and GOOGLE_ADS_REFRESH_TOKEN."
            )
        if status == 403:
            values = [v for _, v in codes]
            hint = next((_AUTHZ_HINTS[v] for v in values if v in _AUTHZ_HINTS), None)
            label = ", ".join(values) or "PERMISSION_DENIED"
            raise AuthError(
                f"Google Ads refused {what} (403 {label}): "
                + (hint or f"{message}. Check GOOGLE_ADS_DEVELOPER_TOKEN and the OAuth user's access.")
            )
        if status == 429:
            quota = [v for k, v in codes if k == "quotaError"]
            if "RESOURCE_EXHAUSTED" in quota:
                raise RateLimitExhausted(
                    f"Google Ads' daily operations quota of this developer token is used up ({what}). It "
                    "resets the next day (Pacific time); re-run then (the sync resumes from its cursor) "
                    "or apply for Standard access."
                )
            delay = retry_delay_s(error)
            wait = self.capped(delay) if delay is not None else 10.0 * self.backoff_base_s * attempt
            raise Retry(f"HTTP 429 {'/'.join(quota) or 'RESOURCE_EXHAUSTED'} on {what}", wait, rate_limited=True)
        if status in _RETRY_STATUSES:
            raise Retry(f"HTTP {status} {error.get('status') or ''} on {what}".replace("  ", " "), self.expo(attempt))
        label = ", ".join(f"{k}.{v}" for k, v in codes) or str(error.get("status") or "")
        raise ConnectorError(f"Google Ads {what} failed with HTTP {status} {label}: {message}")
