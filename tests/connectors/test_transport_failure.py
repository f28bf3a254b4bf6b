"""One meaning of a transport error for every API client (connectors/http/client.py): timeouts
and connection errors are retried after the back-off, anything else gives up with its text
redacted, and the back-off is drawn only for a retry."""

from __future__ import annotations

import pytest
import requests

from connectors.common import ConnectorError
from connectors.http.client import Retry, backoff_s, transport_failure


def _failure(exc: requests.RequestException, waits: list[int]) -> Exception:
    def wait() -> float:
        waits.append(1)
        return 0.4

    return transport_failure(exc, "GET /deals", "Pipedrive", 30, wait, lambda t: str(t).replace("s3cret", "***"))


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (requests.ReadTimeout("slow"), "GET /deals timed out after 30 s"),
        # a connect timeout is a timeout first (requests makes it both)
        (requests.ConnectTimeout("slow"), "GET /deals timed out after 30 s"),
        (requests.ConnectionError("refused"), "GET /deals could not connect (ConnectionError)"),
    ],
)
def test_timeouts_and_connection_errors_are_retried(exc: requests.RequestException, message: str):
    waits: list[int] = []
    failure = _failure(exc, waits)
    assert isinstance(failure, Retry) and not failure.rate_limited
    assert (failure.what, failure.wait_s, len(waits)) == (message, 0.4, 1)


def test_other_request_errors_give_up_redacted_without_a_back_off():
    waits: list[int] = []
    failure = _failure(requests.exceptions.InvalidURL("bad url with token s3cret"), waits)
    assert isinstance(failure, ConnectorError) and not isinstance(failure, Retry)
    assert str(failure) == "Pipedrive GET /deals failed: InvalidURL: bad url with token ***"
    assert waits == []


def test_backoff_doubles_per_attempt_with_at_most_a_quarter_of_jitter():
    for attempt, low in ((1, 0.2), (2, 0.4), (4, 1.6)):
        for _ in range(50):
            assert low <= backoff_s(0.2, attempt) <= low * 1.25
