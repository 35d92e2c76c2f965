"""Reference data shared by the generator and the dbt seeds.

The seeds in `seeds/` are the published copy of these tables; a test keeps both in step. Values
never contain `"` or `\\`, so the generator can place them in JSON without escaping.
"""

from __future__ import annotations

# (department, [(category name, relative traffic weight), ...])
DEPARTMENTS: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("Electronics", (("Phones", 3.0), ("Laptops", 2.0), ("Headphones", 2.0), ("Cameras", 1.0))),
    ("Home & Kitchen", (("Cookware", 1.5), ("Furniture", 1.0), ("Bedding", 1.0), ("Lighting", 0.8))),
    ("Fashion", (("Sneakers", 2.5), ("Jackets", 1.5), ("Dresses", 1.5), ("Watches", 1.0))),
    ("Sports & Outdoors", (("Running", 1.2), ("Cycling", 0.8), ("Camping", 0.8), ("Fitness", 1.0))),
    ("Beauty", (("Skincare", 1.5), ("Fragrance", 1.0), ("Makeup", 1.2))),
    ("Books", (("Fiction", 1.0), ("Cookbooks", 0.5), ("Science", 0.6))),
    ("Toys", (("Board Games", 0.8), ("Building Sets", 1.0))),
)
# Median list price in USD per department (prices are lognormal around it).
DEPARTMENT_PRICE_USD = {
    "Electronics": 180.0,
    "Home & Kitchen": 60.0,
    "Fashion": 70.0,
    "Sports & Outdoors": 55.0,
    "Beauty": 30.0,
    "Books": 18.0,
    "Toys": 35.0,
}
BRANDS = (
    "Acme",
    "Northwind",
    "Contoso",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
)

# (country_code, country_name, region, currency, traffic weight)
COUNTRIES: tuple[tuple[str, str, str, str, float], ...] = (
    ("US", "United States", "North America", "USD", 30.0),
    ("CA", "Canada", "North America", "CAD", 5.0),
    ("MX", "Mexico", "Latin America", "MXN", 4.0),
    ("BR", "Brazil", "Latin America", "BRL", 5.0),
    ("GB", "United Kingdom", "Europe", "GBP", 9.0),
    ("DE", "Germany", "Europe", "EUR", 9.0),
    ("FR", "France", "Europe", "EUR", 7.0),
    ("ES", "Spain", "Europe", "EUR", 4.0),
    ("IT", "Italy", "Europe", "EUR", 4.0),
    ("NL", "Netherlands", "Europe", "EUR", 3.0),
    ("SE", "Sweden", "Europe", "SEK", 2.0),
    ("PL", "Poland", "Europe", "PLN", 2.0),
    ("IN", "India", "Asia Pacific", "INR", 6.0),
    ("JP", "Japan", "Asia Pacific", "JPY", 4.0),
    ("AU", "Australia", "Asia Pacific", "AUD", 3.0),
    ("SG", "Singapore", "Asia Pacific", "SGD", 1.0),
)
CURRENCY_RATES_TO_USD = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.27,
    "CAD": 0.73,
    "MXN": 0.058,
    "BRL": 0.2,
    "SEK": 0.095,
    "PLN": 0.25,
    "INR": 0.012,
    "JPY": 0.0067,
    "AUD": 0.66,
    "SGD": 0.74,
}

# Known crawler / automation user agents: a case-insensitive substring of user_agent identifies a bot.
BOT_USER_AGENTS: tuple[tuple[str, str], ...] = (
    ("googlebot", "Googlebot"),
    ("bingbot", "Bingbot"),
    ("yandexbot", "YandexBot"),
    ("duckduckbot", "DuckDuckBot"),
    ("baiduspider", "Baiduspider"),
    ("ahrefsbot", "AhrefsBot"),
    ("semrushbot", "SemrushBot"),
    ("bytespider", "Bytespider"),
    ("headlesschrome", "Headless Chrome"),
    ("python-requests", "python-requests"),
    ("curl/", "curl"),
    ("scrapy", "Scrapy"),
)
# The heavy bots in the generated traffic: (user agent, share of all bot events).
HEAVY_BOTS: tuple[tuple[str, float], ...] = (
    (
        "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36",
        0.45,
    ),
    ("python-requests/2.32.3", 0.2),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 0.15),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 0.1),
)

# (device_type, os, user agent, app platform prefix)
CLIENTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "desktop",
        "Windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
        "web",
    ),
    (
        "desktop",
        "macOS",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Version/17.5 Safari/605.1.15",
        "web",
    ),
    ("desktop", "Linux", "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "web"),
    (
        "mobile",
        "iOS",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148",
        "ios",
    ),
    (
        "mobile",
        "Android",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari/537.36",
        "android",
    ),
    (
        "tablet",
        "iPadOS",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Mobile/15E148",
        "ios",
    ),
    (
        "tablet",
        "Android",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) Chrome/126.0 Safari/537.36",
        "android",
    ),
)
CLIENT_WEIGHTS = (0.28, 0.12, 0.03, 0.27, 0.2, 0.06, 0.04)

# (channel, weight, referrers, campaigns)
CHANNELS: tuple[tuple[str, float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("direct", 0.3, (), ()),
    (
        "organic_search",
        0.28,
        ("https://www.google.com/", "https://www.bing.com/", "https://duckduckgo.com/"),
        (),
    ),
    ("paid_search", 0.14, ("https://www.google.com/",), ("brand_search", "generic_search", "shopping_ads")),
    (
        "social",
        0.12,
        ("https://www.instagram.com/", "https://www.facebook.com/", "https://www.tiktok.com/"),
        ("spring_launch", "influencer_q1"),
    ),
    ("email", 0.1, (), ("newsletter_weekly", "cart_reminder", "spring_sale")),
    ("referral", 0.06, ("https://blog.example.org/reviews", "https://deals.example.net/"), ()),
)

SEARCH_MODIFIERS = ("", "cheap ", "best ", "new ", "sale ", "gift ", "premium ")
STATIC_PAGES = ("/", "/deals", "/new-arrivals", "/help", "/account")
EXPERIMENTS = ("exp_checkout_v2", "exp_reco_carousel", "exp_free_shipping")


def category_rows() -> list[tuple[str, str, str | None, str]]:
    """`category_hierarchy` rows: one per department (top level) and one per leaf category."""
    rows: list[tuple[str, str, str | None, str]] = []
    for dept_number, (department, categories) in enumerate(DEPARTMENTS, start=1):
        dept_id = f"c{dept_number:02d}"
        rows.append((dept_id, department, None, department))
        for cat_number, (name, _weight) in enumerate(categories, start=1):
            rows.append((f"{dept_id}{cat_number:02d}", name, dept_id, department))
    return rows


def leaf_categories() -> list[tuple[str, str, str, float]]:
    """(category_id, category name, department, traffic weight) of the categories products live in."""
    weights = {name: weight for _dept, categories in DEPARTMENTS for name, weight in categories}
    return [
        (cid, name, dept, weights[name]) for cid, name, parent, dept in category_rows() if parent is not None
    ]
