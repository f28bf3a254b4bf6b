"""HTTP pieces every API client shares: a client-side rolling-window rate limiter and secret
redaction. API-specific behaviour (retry policies, paging, error bodies) stays in each
connector's own client."""
