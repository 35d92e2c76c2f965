"""The generator on its own (no Spark): determinism, dirt within its configured rates, a realistic
funnel, orders that agree with purchases, well-formed CDC logs, manifests and seeds."""

from __future__ import annotations

import csv
import itertools
import json
import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lakehouse.config import project_dir
from lakehouse.contracts.landing import MANIFEST_DIR
from lakehouse.errors import LakehouseError
from lakehouse.importer.behaviour import behaviour_figures, sessionize
from lakehouse_dev.generate import GenerateConfig, GenerationResult, generate, parse_scale
from lakehouse_dev.generate import reference as ref
from lakehouse_dev.generate.behaviour import clickstream_frame
from lakehouse_dev.generate.clickstream import generate_clickstream
from lakehouse_dev.generate.landing import Progress, land_arrivals
from lakehouse_dev.generate.world import build_world

SCALE, DAYS, SEED = 8_000, 3, 11


def landed_lines(landing: Path, feed: str) -> list[bytes]:
    return [
        line
        for path in sorted((landing / feed).glob("arrival_date=*/*.jsonl"))
        for line in path.read_bytes().splitlines()
    ]


def parsed(lines: list[bytes]) -> list[dict[str, Any]]:
    """The lines that are valid JSON objects, decoded."""
    out = []
    for line in lines:
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationResult]:
    out = tmp_path_factory.mktemp("landing")
    return out, generate(scale_events=SCALE, days=DAYS, seed=SEED, out_dir=out)


def contract_valid(event: dict[str, Any]) -> bool:
    """Has the required fields and well-typed values (what ingestion lets into bronze)."""
    required = all(event.get(k) for k in ("event_id", "event_type", "event_ts", "anonymous_id"))
    return required and event["event_ts"][:2] == "20" and event.get("quantity") != "two"


@pytest.fixture(scope="module")
def events(landing: tuple[Path, GenerationResult]) -> list[dict[str, Any]]:
    """The contract-valid event records, in landing order."""
    return [e for e in parsed(landed_lines(landing[0], "events")) if contract_valid(e)]


def test_same_seed_same_bytes_other_seed_other_data(
    tmp_path: Path, landing: tuple[Path, GenerationResult]
) -> None:
    first, _ = landing
    generate(scale_events=SCALE, days=DAYS, seed=SEED, out_dir=tmp_path / "again")
    generate(scale_events=SCALE, days=DAYS, seed=SEED + 1, out_dir=tmp_path / "other")
    files = sorted(p.relative_to(first) for p in first.rglob("*.jsonl"))
    assert files
    assert all((first / f).read_bytes() == (tmp_path / "again" / f).read_bytes() for f in files)
    for feed in ("events", "cdc_orders"):  # the same feed, generated with another seed
        assert landed_lines(tmp_path / "other", feed)
        assert landed_lines(first, feed)[:50] != landed_lines(tmp_path / "other", feed)[:50], feed


def test_rerun_with_same_settings_is_skipped(landing: tuple[Path, GenerationResult]) -> None:
    out, result = landing
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.jsonl")}
    again = generate(scale_events=SCALE, days=DAYS, seed=SEED, out_dir=out)
    assert again.skipped
    assert not result.skipped
    assert again.lines == result.lines
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jsonl")} == before


def test_manifests_count_every_landed_line(landing: tuple[Path, GenerationResult]) -> None:
    out, result = landing
    for feed in ("events", "cdc_users", "cdc_products", "cdc_orders"):
        manifests = [json.loads(p.read_text()) for p in (out / MANIFEST_DIR / feed).glob("*/*.json")]
        assert sum(m["lines"] for m in manifests) == len(landed_lines(out, feed)) == result.lines[feed]
        assert all((out / m["file"]).exists() for m in manifests)


def test_land_arrivals_delivers_one_arrival_day_at_a_time(
    landing: tuple[Path, GenerationResult], tmp_path: Path
) -> None:
    held, landed = tmp_path / "held", tmp_path / "landing"
    shutil.copytree(landing[0], held)
    result = landing[1]
    first = date.fromisoformat(str(result.config["start_date"]))

    def arrival_days(root: Path) -> set[str]:
        return {p.parent.name for p in root.glob("*/arrival_date=*/*.jsonl")}

    day_one = land_arrivals(held, landed, first)
    assert arrival_days(landed) == {f"arrival_date={first}"}
    assert f"arrival_date={first}" not in arrival_days(held)
    assert all(day_one[feed] == len(landed_lines(landed, feed)) > 0 for feed in day_one)
    assert land_arrivals(held, landed, first) == {}  # nothing left that arrived by then

    rest = land_arrivals(held, landed, first + timedelta(days=DAYS + 5))
    assert not list(held.rglob("*.jsonl"))
    for feed, lines in result.lines.items():
        assert day_one.get(feed, 0) + rest[feed] == lines == len(landed_lines(landed, feed))
        manifests = [json.loads(p.read_text()) for p in (landed / MANIFEST_DIR / feed).glob("*/*.json")]
        assert sum(m["lines"] for m in manifests) == lines


def test_dirty_rates_stay_within_bounds(
    landing: tuple[Path, GenerationResult], events: list[dict[str, Any]]
) -> None:
    out, result = landing
    lines = result.lines["events"]
    ids = Counter(e.get("event_id") for e in events)
    duplicated = sum(n - 1 for event_id, n in ids.items() if event_id and n > 1)
    assert 0.005 * lines <= duplicated <= 0.015 * lines
    assert result.duplicate_lines == lines - result.events
    # 0.1% malformed, at least one line of each of the four kinds
    assert sum(result.malformed.values()) == max(4, round(0.001 * lines))
    assert min(result.malformed.values()) >= 1
    # truncated and invalid UTF-8 lines are not JSON; the other two kinds are JSON that breaks the contract
    json_lines = parsed(landed_lines(out, "events"))
    assert lines - len(json_lines) == result.malformed["truncated_json"] + result.malformed["invalid_utf8"]
    assert (
        len(json_lines) - len(events)
        == result.malformed["wrong_type"] + result.malformed["missing_required_field"]
    )
    assert 0.01 * lines <= result.late_lines <= 0.04 * lines
    landed_late = 0
    for path in (out / "events").glob("arrival_date=*/*.jsonl"):
        arrival = path.parent.name.removeprefix("arrival_date=")
        landed_late += sum(1 for e in parsed(path.read_bytes().splitlines()) if e["event_ts"][:10] < arrival)
    assert landed_late >= 0.01 * lines  # late events sit in a later day's folder


def test_timestamps_arrive_out_of_order(landing: tuple[Path, GenerationResult]) -> None:
    out, _ = landing
    path = sorted((out / "events").glob("arrival_date=*/*.jsonl"))[1]
    stamps = [e["event_ts"] for e in parsed(path.read_bytes().splitlines())]
    backwards = sum(1 for a, b in itertools.pairwise(stamps) if b < a)
    assert 0.005 * len(stamps) <= backwards <= 0.1 * len(stamps)


def test_schema_drift_appears_part_way(events: list[dict[str, Any]]) -> None:
    stamped = events
    with_version = [e["event_ts"] for e in stamped if "app_version" in e]
    without = [e["event_ts"] for e in stamped if "app_version" not in e]
    assert len(with_version) > 0.3 * len(stamped)
    assert len(without) > 0.3 * len(stamped)
    assert max(without) < min(with_version)  # v2 records start at one point in (client) time
    assert any("experiment_id" in e for e in events)  # a field outside every contract version
    assert any(isinstance(e.get("quantity"), str) for e in events)  # numbers sent as strings
    assert any(isinstance(e.get("quantity"), int) for e in events)


def test_funnel_and_conversion_are_realistic(
    landing: tuple[Path, GenerationResult], events: list[dict[str, Any]]
) -> None:
    _, result = landing
    types = Counter(e["event_type"] for e in {e["event_id"]: e for e in events}.values())
    assert types["page_view"] > types["add_to_cart"] > types["purchase"] > 0
    assert types["product_view"] > 5 * types["add_to_cart"]
    assert types["add_to_cart"] > types["begin_checkout"] >= types["purchase"]
    assert 0.015 <= result.orders / result.sessions <= 0.05


def test_sessions_have_gaps_under_the_inactivity_timeout(events: list[dict[str, Any]]) -> None:
    by_anon: dict[str, list[str]] = {}
    for e in events:
        if e["user_agent"] in {ua for ua, _share in ref.HEAVY_BOTS}:
            continue
        by_anon.setdefault(e["anonymous_id"], []).append(e["event_ts"])
    gaps: Counter[str] = Counter()
    for stamps in by_anon.values():
        times = sorted(datetime.fromisoformat(s.replace("Z", "+00:00")) for s in stamps)
        for a, b in itertools.pairwise(times):
            gaps["short" if (b - a).total_seconds() < 1800 else "long"] += 1
    assert gaps["short"] > 3 * gaps["long"] > 0  # many events per session, several sessions per user


def test_heavy_bots_are_a_skewed_key(events: list[dict[str, Any]]) -> None:
    per_visitor = Counter(e["anonymous_id"] for e in events)
    (heaviest, _n), *_ = per_visitor.most_common(1)
    assert heaviest == "a_bot0"
    # (the ratio grows with scale: users scale with events, the four bots do not)
    assert per_visitor["a_bot0"] > 8 * (len(events) / len(per_visitor))
    assert {e["user_agent"] for e in events if e["anonymous_id"] == "a_bot0"} == {ref.HEAVY_BOTS[0][0]}


def test_sessions_browse_related_products(
    landing: tuple[Path, GenerationResult], events: list[dict[str, Any]]
) -> None:
    """A visitor's consecutive product views mostly stay in one category: the co-view signal an
    item-item recommender can learn, far above what popularity alone would give."""
    snapshot = parsed(landed_lines(landing[0], "cdc_products"))
    category = {c["after"]["product_id"]: c["after"]["category_id"] for c in snapshot if c["op"] == "r"}
    by_visitor: dict[str, list[str]] = {}
    for e in sorted(events, key=lambda e: e["event_ts"]):
        if e["event_type"] == "product_view" and not e["anonymous_id"].startswith("a_bot"):
            by_visitor.setdefault(e["anonymous_id"], []).append(category[e["product_id"]])
    pairs = [(a, b) for cats in by_visitor.values() for a, b in itertools.pairwise(cats)]
    views = Counter(c for cats in by_visitor.values() for c in cats)
    chance = sum((n / sum(views.values())) ** 2 for n in views.values())
    same = sum(a == b for a, b in pairs) / len(pairs)
    assert same > 0.6 > 4 * chance


def test_orders_feed_agrees_with_purchase_events(
    landing: tuple[Path, GenerationResult], events: list[dict[str, Any]]
) -> None:
    out, result = landing
    purchases = {e["order_id"]: e for e in events if e["event_type"] == "purchase"}
    changes = parsed(landed_lines(out, "cdc_orders"))
    created = {c["after"]["order_id"]: c["after"] for c in changes if c["op"] == "c"}
    assert len(purchases) == result.orders
    assert set(created) == set(purchases)
    for order_id, order in created.items():
        event = purchases[order_id]
        quantity, price = int(event["quantity"]), float(event["price"])
        assert order["order_total"] == pytest.approx(round(quantity * price, 2))
        assert (order["user_id"], order["currency"], order["item_count"]) == (
            event["user_id"],
            event["currency"],
            quantity,
        )
    statuses = Counter(c["after"]["order_status"] for c in changes if c["after"])
    assert statuses["placed"] == len(created)
    assert statuses["paid"] > 0
    assert statuses["shipped"] > 0


@pytest.mark.parametrize("feed", ["cdc_users", "cdc_products", "cdc_orders"])
def test_change_feeds_are_debezium_logs(landing: tuple[Path, GenerationResult], feed: str) -> None:
    out, _ = landing
    key = {"cdc_users": "user_id", "cdc_products": "product_id", "cdc_orders": "order_id"}[feed]
    changes = parsed(landed_lines(out, feed))
    lsns = [c["source"]["lsn"] for c in changes if c["op"] != "r"]
    assert len(set(lsns)) == len(lsns)
    assert lsns != sorted(lsns)  # delivery is partly out of order
    snapshot = [c["source"] for c in changes if c["op"] == "r"]
    if snapshot:  # as Debezium does: every snapshot row at the snapshot's LSN, the first and last marked
        assert len({s["lsn"] for s in snapshot}) == 1
        markers = {s["snapshot"] for s in snapshot}
        assert markers == {"true", "first_in_data_collection", "last_in_data_collection"}
        assert min(lsns) >= snapshot[0]["lsn"]
    per_key = Counter((c["after"] or c["before"])[key] for c in changes)
    assert max(per_key.values()) >= 3  # several changes to one key
    ops = Counter(c["op"] for c in changes)
    assert ops["u"] > 0
    for change in changes:  # commit order: a later LSN never has an earlier commit time
        assert change["source"]["lsn"] // 1000 == change["source"]["ts_ms"]
        if change["op"] == "d":
            assert change["after"] is None
            assert change["before"][key]
        if change["op"] in ("c", "r"):
            assert change["before"] is None
    if feed != "cdc_orders":
        assert ops["d"] > 0


def test_scale_shorthand_and_bad_settings() -> None:
    assert parse_scale("10M") == 10_000_000
    assert parse_scale("50k") == 50_000
    assert parse_scale("1234") == 1234
    with pytest.raises(LakehouseError):
        parse_scale("lots")
    with pytest.raises(LakehouseError):
        GenerateConfig(duplicate_rate=0.9)
    assert GenerateConfig(start_date=date(2026, 1, 1)).tag != GenerateConfig().tag


def test_seeds_publish_the_generator_reference_data() -> None:
    seeds = project_dir() / "seeds"

    def rows(name: str) -> list[list[str]]:
        with open(seeds / f"{name}.csv", newline="") as handle:
            return list(csv.reader(handle))[1:]

    assert rows("category_hierarchy") == [[a, b, c or "", d] for a, b, c, d in ref.category_rows()]
    assert rows("country_regions") == [[c[0], c[1], c[2]] for c in ref.COUNTRIES]
    assert {r[0]: float(r[1]) for r in rows("currency_rates")} == ref.CURRENCY_RATES_TO_USD
    patterns = [r[0] for r in rows("bot_user_agents")]
    assert all(any(p in ua.lower() for p in patterns) for ua, _share in ref.HEAVY_BOTS)
    assert not any(p in c[2].lower() for p in patterns for c in ref.CLIENTS)
    assert {c[3] for c in ref.COUNTRIES} <= set(ref.CURRENCY_RATES_TO_USD)


def test_progress_in_a_log_is_a_line_per_ten_percent(capsys: pytest.CaptureFixture[str]) -> None:
    progress = Progress(total=1_000, enabled=True)
    for _ in range(250):
        progress.advance(4)

    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "  generate: 100/1,000 lines (10%)"
    assert lines[-1] == "  generate: 1,000/1,000 lines (100%)"
    assert len(lines) == 10
    assert "\r" not in "".join(lines)


def test_behaviour_figures_by_hand() -> None:
    events = pd.DataFrame(
        [
            ("v1", 1, "product_view", 10, 0),
            ("v1", 2, "product_view", 10, 100),  # v1 comes back for 10 in a later session ...
            ("v1", 2, "add_to_cart", 10, 101),
            ("v1", 2, "purchase", 10, 102),  # ... and buys it
            ("v1", 3, "product_view", 11, 200),
            ("v1", 3, "add_to_cart", 11, 201),
            ("v1", 3, "purchase", 11, 202),  # viewed in the same session only
            ("v1", 4, "purchase", 10, 300),  # buys 10 again
            ("v2", 5, "purchase", 12, 50),  # never viewed
        ],
        columns=["visitor_id", "session_id", "event_type", "product_id", "event_ts"],
    )
    figures = behaviour_figures(events)
    assert figures["purchases"] == 4
    assert figures["purchase_per_cart"] == 2.0
    assert figures["purchase_after_view"] == 0.75
    assert figures["purchase_after_earlier_session_view"] == 0.5
    assert figures["purchase_repeats_earlier_purchase"] == 0.25
    assert list(sessionize(np.array([1, 1, 1, 2]), np.array([0, 1_800_000, 3_600_001, 0]))) == [1, 1, 2, 3]


def test_behaviour_is_calibrated_to_public_logs() -> None:
    """Funnel ratios inside the ranges published for public e-commerce logs, and the consideration
    and repeat purchase the docs assume where nothing is published (docs/recommendations.md)."""
    cfg = GenerateConfig(scale_events=200_000, days=14, seed=5)
    rng = np.random.default_rng(cfg.seed)
    start_ms = int(datetime.combine(cfg.start_date, datetime.min.time(), UTC).timestamp() * 1000)
    clicks = generate_clickstream(build_world(cfg, rng, start_ms), cfg, rng, start_ms)
    figures = behaviour_figures(clickstream_frame(clicks))
    assert 0.023 <= figures["cart_per_view"] <= 0.087  # REES46 2.3% .. OTTO 8.7%
    assert 0.302 <= figures["purchase_per_cart"] <= 0.364  # OTTO 30.2% .. Taobao 36.4%
    assert 0.0084 <= figures["purchase_per_view"] <= 0.026  # RetailRocket 0.84% .. OTTO 2.6%
    assert figures["purchase_after_view"] == 1.0  # every purchase is viewed first
    assert 0.25 <= figures["purchase_after_earlier_session_view"] <= 0.40  # assumed (not published)
    assert 0.03 <= figures["purchase_repeats_earlier_purchase"] <= 0.15  # assumed (Tmall merchant level 6.1%)
