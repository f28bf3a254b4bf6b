"""The sandbox account's profile: names, channel and lifecycle mixes, owners, and the stage
process parameters (median dwell and conversion per stage, regression, stall, skip and reopen
rates). Plain data: the generator (`emulators.truth.generator`) draws from it."""

from __future__ import annotations

from emulators.truth.store import RENEWALS_PIPELINE

FIRST_NAMES = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pablo",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Xenia",
    "Yusuf",
    "Zoe",
)
LAST_NAMES = (
    "Adams",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Patel",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vogel",
    "Walsh",
    "Young",
    "Zhang",
)
DOMAINS = ("example.com", "acme.io", "globex.net", "initech.co", "umbrella.org", "hooli.dev")
CO_PREFIX = ("Nor", "Blue", "Quant", "Hex", "Lumen", "Verd", "Astra", "Core", "Nova", "Terra")
CO_SUFFIX = ("tech", "wave", "ify", "labs", "soft", "works", "data", "logic", "grid", "line")
CO_FORM = ("Inc", "GmbH", "Ltd", "LLC", "SA", "BV")
PRODUCTS = ("Platform licence", "Pilot", "Expansion", "Annual plan", "Onboarding", "Add-on seats")

CHANNEL_WEIGHTS = (0.27, 0.16, 0.10, 0.07, 0.09, 0.08, 0.14, 0.06, 0.03)
SOURCE_DATA: dict[str, tuple[tuple[str, ...], tuple[str | None, ...]]] = {
    "ORGANIC_SEARCH": (("google", "bing", "duckduckgo"), ("{keyword unavailable}",)),
    "PAID_SEARCH": (
        ("google", "google", "bing"),
        ("brand_search", "generic_crm_software", "competitor_terms", "retargeting_search"),
    ),
    "PAID_SOCIAL": (
        ("Facebook", "LinkedIn", "Instagram"),
        ("prospecting_lookalike", "retargeting_q", "webinar_promo", "ebook_pipeline_guide"),
    ),
    "SOCIAL_MEDIA": (("LinkedIn", "Twitter", "Facebook"), (None,)),
    "EMAIL_MARKETING": (("Monthly newsletter", "Product update", "Webinar invite"), (None,)),
    "REFERRALS": (("g2.com", "capterra.com", "partner-portal.io"), (None,)),
    "DIRECT_TRAFFIC": ((None,), (None,)),
    "OFFLINE": (("IMPORT", "CRM_UI", "API", "INTEGRATION"), (None,)),
    "OTHER_CAMPAIGNS": (("partner_webinar", "trade_show_2026"), (None,)),
}
LIFECYCLE_WEIGHTS = (0.14, 0.44, 0.16, 0.10, 0.08, 0.06, 0.01, 0.01)
LEAD_STATUS_WEIGHTS = (0.22, 0.16, 0.14, 0.10, 0.12, 0.12, 0.09, 0.05)
CURRENCY_WEIGHTS = (0.70, 0.15, 0.11, 0.04)

OWNERS = (
    ("Mara", "Lindqvist", ["Enterprise"]),
    ("Tobias", "Keller", ["Enterprise"]),
    ("Priya", "Raman", ["Mid-Market"]),
    ("Jamal", "Owens", ["Mid-Market"]),
    ("Chloé", "Martin", ["SMB"]),
    ("Diego", "Ferreira", ["SMB"]),
    ("Hannah", "Berg", ["Renewals"]),
    ("Oskar", "Nyberg", ["SMB"]),  # archived half-way through the period
)
OWNER_WEIGHTS = (0.16, 0.14, 0.15, 0.14, 0.13, 0.12, 0.08, 0.08)

# Stage process: per open stage (median dwell days, P(lost) when leaving the stage).
PROCESS: dict[str, tuple[tuple[float, float], ...]] = {
    "default": ((4.0, 0.28), (7.0, 0.30), (11.0, 0.30), (8.0, 0.25), (6.0, 0.30)),
    RENEWALS_PIPELINE.id: ((10.0, 0.15), (14.0, 0.20), (6.0, 0.10)),
}
DWELL_SIGMA = 0.85
P_REGRESS = 0.03
P_STALL = 0.07  # per open stage: the deal sits there ~10x longer (stale pipeline)
P_SKIP = 0.05
P_REOPEN = 0.04
P_CLOSED_SWITCH = 0.01
P_REPEAT = 0.05
ENTRY_WEIGHTS = (0.80, 0.12, 0.05, 0.03)
