"""Meta Graph API (Marketing API) rendered over the sandbox's ad truth: ad account, campaigns and
insights with cursor paging, error codes and business use-case usage headers (``server``)."""
