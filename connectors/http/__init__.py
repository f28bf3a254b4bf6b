"""Generic HTTP pieces shared by every API connector: rate limiter, secret redaction, and a JSON
client base with one retry loop (``client``). No API's contract lives here."""
