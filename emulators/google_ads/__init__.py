"""Google Ads API rendered over the sandbox's ad truth: OAuth token endpoint, GAQL subset
(``gaql``), searchStream batches, quota and permission errors (``server``)."""
