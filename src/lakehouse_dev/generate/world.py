"""The entities behind the clickstream: users with category tastes, products with Zipf popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.config import DAY_MS, GenerateConfig

# Products inside a category form small "lines" (same collection/brand family) that sessions
# browse together: the co-view signal item-item recommenders can learn beyond popularity.
GROUP_SIZE = 8
FIRST_NAMES = (
    "Ana",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kai",
    "Lena",
)
LAST_NAMES = ("Smith", "Garcia", "Muller", "Rossi", "Kowalski", "Tanaka", "Silva", "Martin", "Berg", "Singh")


def random_hex(rng: np.random.Generator, n: int, n_bytes: int) -> np.ndarray:
    """n random lowercase hex strings of 2 * n_bytes characters, without a Python loop."""
    text = rng.bytes(n_bytes * n).hex().encode()
    return np.frombuffer(text, dtype=f"S{2 * n_bytes}").astype(str)


def zero_padded(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


@dataclass
class World:
    """Column arrays (numpy) per entity; string columns also as Arrow arrays for serialisation."""

    user_ids: pa.Array
    user_country: np.ndarray  # index into reference.COUNTRIES
    user_client: np.ndarray  # index into reference.CLIENTS
    user_activity: np.ndarray  # probability a session belongs to the user
    user_prefs: np.ndarray  # (n_users, 3) leaf-category indexes, most preferred first
    user_pref_p: np.ndarray  # (n_users, 3) cumulative preference probabilities
    user_anon_ids: pa.Array
    user_ips: pa.Array
    user_emails: pa.Array
    user_names: pa.Array
    user_signup_ms: np.ndarray
    user_opt_in: np.ndarray
    product_ids: pa.Array
    product_names: pa.Array
    product_category: np.ndarray  # index into reference.leaf_categories()
    product_brand: np.ndarray
    product_price_usd: np.ndarray
    product_new_price_usd: np.ndarray  # list price after the product's one price change
    product_price_change_ms: np.ndarray  # when the price changes (int64 max: never)
    category_offsets: np.ndarray  # products of category c: [offsets[c], offsets[c] + sizes[c])
    category_sizes: np.ndarray
    by_popularity: np.ndarray  # product indexes grouped by category, most popular first
    by_group: np.ndarray  # product indexes grouped by category, in browsing "lines" of GROUP_SIZE
    category_weights: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.user_country)

    @property
    def n_products(self) -> int:
        return len(self.product_category)


def build_world(cfg: GenerateConfig, rng: np.random.Generator, start_ms: int) -> World:
    n_users, n_products = cfg.n_users, cfg.n_products
    leaves = ref.leaf_categories()
    n_cats = len(leaves)
    category_weights = np.array([weight for *_rest, weight in leaves])
    category_weights /= category_weights.sum()

    # Users: a heavy-tailed activity distribution and 1-3 preferred categories each.
    country_p = np.array([c[4] for c in ref.COUNTRIES])
    user_country = rng.choice(len(ref.COUNTRIES), size=n_users, p=country_p / country_p.sum())
    user_client = rng.choice(
        len(ref.CLIENTS), size=n_users, p=np.array(ref.CLIENT_WEIGHTS) / sum(ref.CLIENT_WEIGHTS)
    )
    activity = rng.lognormal(0.0, 0.8, size=n_users)
    user_prefs = np.stack([rng.choice(n_cats, size=n_users, p=category_weights) for _ in range(3)], axis=1)
    n_prefs = rng.choice([1, 2, 3], size=n_users, p=[0.3, 0.45, 0.25])
    pref_p = np.where(
        n_prefs[:, None] == 1,
        [1.0, 1.0, 1.0],
        np.where(n_prefs[:, None] == 2, [0.7, 1.0, 1.0], [0.55, 0.85, 1.0]),
    )
    numbers = np.arange(1, n_users + 1)
    user_ids = zero_padded("u_", numbers, 7)
    first = np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), n_users)]
    last = np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), n_users)]
    names = np.char.add(np.char.add(first, " "), last)
    emails = np.char.add(
        np.char.add(np.char.lower(np.char.add(np.char.add(first, "."), last)), numbers.astype(str)),
        "@mail.example.com",
    )
    anon = np.char.add("a_", np.frombuffer(rng.bytes(8 * n_users), dtype="S8").view(np.uint64).astype(str))
    octets = rng.integers(1, 255, size=(n_users, 4)).astype(str)
    ips = np.char.add(
        np.char.add(np.char.add(np.char.add(octets[:, 0], "."), octets[:, 1]), "."), octets[:, 2]
    )
    ips = np.char.add(np.char.add(ips, "."), octets[:, 3])
    signup_ms = start_ms - rng.integers(DAY_MS, 730 * DAY_MS, size=n_users)

    # Products: category by traffic weight, lognormal prices, Zipf popularity inside a category.
    product_category = np.sort(rng.choice(n_cats, size=n_products, p=category_weights))
    product_category[:n_cats] = np.arange(n_cats)  # every category has at least one product
    product_category.sort()
    sizes = np.bincount(product_category, minlength=n_cats)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    dept_price = np.array([ref.DEPARTMENT_PRICE_USD[dept] for _cid, _name, dept, _w in leaves])
    price = np.floor(dept_price[product_category] * rng.lognormal(0.0, 0.5, size=n_products)) + 0.99
    by_popularity = np.arange(n_products)
    by_group = np.arange(n_products)
    for c in range(n_cats):  # per category, not per event: cheap
        span = slice(offsets[c], offsets[c] + sizes[c])
        by_popularity[span] = rng.permutation(by_popularity[span])
        by_group[span] = rng.permutation(by_group[span])
    changes = rng.random(n_products) < 0.1
    change_ms = np.where(
        changes, start_ms + rng.integers(0, cfg.days * DAY_MS, size=n_products), np.iinfo(np.int64).max
    )
    new_price = np.floor(price * rng.choice([0.8, 0.9, 1.1, 1.2], size=n_products)) + 0.99
    brand = rng.integers(0, len(ref.BRANDS), size=n_products)
    cat_names = np.array([name for _cid, name, _d, _w in leaves])
    product_names = np.char.add(
        np.char.add(np.char.add(np.array(ref.BRANDS)[brand], " "), cat_names[product_category]),
        np.char.add(" ", (np.arange(n_products) % 97 + 1).astype(str)),
    )

    return World(
        user_ids=pa.array(user_ids),
        user_country=user_country,
        user_client=user_client,
        user_activity=activity / activity.sum(),
        user_prefs=user_prefs,
        user_pref_p=pref_p,
        user_anon_ids=pa.array(anon),
        user_ips=pa.array(ips),
        user_emails=pa.array(emails),
        user_names=pa.array(names),
        user_signup_ms=signup_ms,
        user_opt_in=rng.random(n_users) < 0.4,
        product_ids=pa.array(zero_padded("p_", np.arange(1, n_products + 1), 6)),
        product_names=pa.array(product_names),
        product_category=product_category,
        product_brand=brand,
        product_price_usd=price,
        product_new_price_usd=new_price,
        product_price_change_ms=change_ms,
        category_offsets=offsets,
        category_sizes=sizes,
        by_popularity=by_popularity,
        by_group=by_group,
        category_weights=category_weights,
    )


def sample_products(
    world: World, rng: np.random.Generator, category: np.ndarray, group: np.ndarray
) -> np.ndarray:
    """One product per row: 70% from the session's browsing line, else Zipf over the category."""
    n = len(category)
    size = world.category_sizes[category]
    offset = world.category_offsets[category]
    # log-uniform rank = Zipf with exponent 1: P(rank <= k) = ln k / ln n
    rank = np.minimum(np.floor(np.power(size + 1.0, rng.random(n))).astype(np.int64) - 1, size - 1)
    popular = world.by_popularity[offset + rank]
    group_start = np.minimum(group * GROUP_SIZE, size - 1)
    group_len = np.minimum(GROUP_SIZE, size - group_start)
    in_line = world.by_group[offset + group_start + (rng.random(n) * group_len).astype(np.int64)]
    return np.where(rng.random(n) < 0.7, in_line, popular)
