"""`lakehouse import`: a real log (an excerpt of UCI Online Retail, tests/data) and small made-up
ones mapped to the event contract, landed with manifests, and ingested into bronze unchanged."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from lakehouse.cli import main
from lakehouse.config import Settings
from lakehouse.errors import LakehouseError
from lakehouse.importer.core import ImportResult, import_log
from lakehouse.importer.mapping import load_mapping, parse_mapping
from lakehouse.ingest import ingest

EXCERPT = Path(__file__).parent / "data" / "online_retail_uci_excerpt.csv"
FEEDS = ("events", "cdc_products", "cdc_users", "cdc_orders")


def landed(landing: Path, feed: str) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for path in sorted((landing / feed).glob("arrival_date=*/*.jsonl"))
        for line in path.read_text().splitlines()
    ]


@pytest.fixture(scope="module")
def uci(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportResult]:
    landing = tmp_path_factory.mktemp("uci") / "landing"
    return landing, import_log(EXCERPT, load_mapping("uci_online_retail"), landing)


def test_every_row_maps_or_is_counted_with_its_reason(uci: tuple[Path, ImportResult]) -> None:
    _landing, result = uci
    with EXCERPT.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    cancelled = [r for r in rows if r["InvoiceNo"].startswith("C")]
    fees = [r for r in rows if r not in cancelled and not re.match(r"\d{5}", r["StockCode"])]
    negative = [r for r in rows if r not in cancelled and r not in fees and float(r["Quantity"]) <= 0]
    assert result.rows_read == len(rows)
    assert result.dropped == {
        reason: n
        for reason, n in (
            (r"order_id does not match ^\d+$", len(cancelled)),
            (r"product_id does not match ^\d{5}", len(fees)),
            ("quantity not a positive whole number (a return or cancellation)", len(negative)),
        )
        if n
    }
    assert result.events == len(rows) - len(cancelled) - len(fees) - len(negative)
    assert result.unused_columns == []
    kept = [r for r in rows if r not in cancelled + fees + negative]
    assert result.first_event == min(r["InvoiceDate"] for r in kept)  # London is UTC in winter


def test_lands_contract_lines_by_day_with_manifests(uci: tuple[Path, ImportResult]) -> None:
    landing, result = uci
    events = landed(landing, "events")
    assert len(events) == result.events == result.lines["events"]
    assert {e["event_type"] for e in events} == {"purchase"}
    assert all(e["anonymous_id"] and e["product_id"] and e["quantity"] > 0 for e in events)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", e["event_ts"]) for e in events)
    assert len({e["event_id"] for e in events}) == len(events)
    anonymous = [e for e in events if e["user_id"] is None]
    assert anonymous
    assert all(e["anonymous_id"].startswith("a_order_") for e in anonymous)
    assert all(e["user_id"] is None or re.fullmatch(r"\d{5}", str(e["user_id"])) for e in events)
    for path in (landing / "events").glob("arrival_date=*/*.jsonl"):
        day = path.parent.name.removeprefix("arrival_date=")
        assert {e["event_ts"][:10] for e in map(json.loads, path.read_text().splitlines())} == {day}
    manifests = [json.loads(p.read_text()) for p in (landing / "_manifests").glob("*/arrival_date=*/*.json")]
    assert len(manifests) == result.files
    for manifest in manifests:
        lines = (landing / str(manifest["file"])).read_text().splitlines()
        assert manifest["lines"] == len(lines)
        assert manifest["generation"] == result.tag


def test_orders_and_products_agree_with_the_purchase_events(uci: tuple[Path, ImportResult]) -> None:
    landing, _result = uci
    events = landed(landing, "events")
    revenue: Counter[str] = Counter()
    for e in events:
        revenue[str(e["order_id"])] += float(e["quantity"]) * float(e["price"])  # type: ignore[arg-type]
    orders = {c["after"]["order_id"]: c for c in landed(landing, "cdc_orders")}  # type: ignore[index]
    assert set(orders) == set(revenue)
    for order_id, change in orders.items():
        assert change["op"] == "c"
        assert change["after"]["order_total"] == pytest.approx(round(revenue[order_id], 2))  # type: ignore[index]
    products = {c["after"]["product_id"]: c["after"] for c in landed(landing, "cdc_products")}  # type: ignore[index]
    assert set(products) == {e["product_id"] for e in events}
    assert products["22197"]["product_name"] == "POPCORN HOLDER"  # type: ignore[index]
    lsns = [c["source"]["lsn"] for c in landed(landing, "cdc_products")]  # type: ignore[index]
    assert len(set(lsns)) == len(lsns)


def test_a_reimport_is_a_no_op_and_another_mapping_another_import(
    uci: tuple[Path, ImportResult], tmp_path: Path
) -> None:
    landing, result = uci
    again = import_log(EXCERPT, load_mapping("uci_online_retail"), landing)
    assert again.skipped
    assert (again.tag, again.events, again.dropped) == (result.tag, result.events, result.dropped)
    mapping = load_mapping("uci_online_retail")
    other = import_log(EXCERPT, replace(mapping, require={}, text=mapping.text + "#"), tmp_path)
    assert other.tag != result.tag
    assert "order_id does not match" not in " ".join(other.dropped)


def test_the_report_names_what_the_project_will_do_with_the_log(uci: tuple[Path, ImportResult]) -> None:
    _landing, result = uci
    assert any("outside the dbt calendar" in note and "2011-12-31" in note for note in result.notes)
    assert any("purchases only" in note for note in result.notes)
    assert result.busy_visitor_days == 0
    assert 0 < result.figures["purchase_repeats_earlier_purchase"] < 0.2
    assert "cart_per_view" not in result.figures  # no views in this log: no funnel ratio


CLICKS = pd.DataFrame(
    {
        "visitorid": ["1", "1", "1", "2", "2", "3", "3"],
        "itemid": ["10", "10", "10", "11", "12", "10", "13"],
        "event": ["view", "addtocart", "transaction", "view", "wishlist", "view", "view"],
        # 2026-07-01 09:00 London = 08:00 UTC (summer time), as epoch milliseconds
        "timestamp": [
            *("1782892800000", "1782892810000", "1782892820000"),
            *("1782892860000", "1782892900000", "bad", "1782892800000"),
        ],
        "device": ["mobile", "mobile", "mobile", "watch", "desktop", "desktop", "desktop"],
        "extra": ["x"] * 7,
    }
)
CLICKS_MAPPING = {
    "columns": {
        "user_id": "visitorid",
        "product_id": "itemid",
        "event_type": "event",
        "event_ts": "timestamp",
        "device_type": "device",
    },
    "event_types": {"view": "product_view", "addtocart": "add_to_cart", "transaction": "purchase"},
    "timestamp": {"format": "epoch_ms"},
}


def test_a_parquet_click_log_with_its_own_event_types(tmp_path: Path) -> None:
    source = tmp_path / "clicks.parquet"
    CLICKS.to_parquet(source)
    result = import_log(
        source, parse_mapping(CLICKS_MAPPING, text=json.dumps(CLICKS_MAPPING)), tmp_path / "landing"
    )
    assert result.dropped == {
        "event_type 'wishlist' not mapped": 1,
        "event_ts empty, not in format 'epoch_ms' or at a clock change": 1,
    }
    assert result.emptied == {"device_type 'watch'": 1}  # not a device type of the contract
    assert result.unused_columns == ["extra"]
    events = landed(tmp_path / "landing", "events")
    assert Counter(e["event_type"] for e in events) == {"product_view": 3, "add_to_cart": 1, "purchase": 1}
    assert events[0]["event_ts"] == "2026-07-01T08:00:00.000Z"
    assert not any("calendar" in note for note in result.notes)  # 2026 is in the calendar
    assert result.figures["purchase_after_view"] == 1.0
    assert landed(tmp_path / "landing", "cdc_orders") == []  # purchases without an order id: no order


def test_local_times_convert_to_utc_and_busy_visitors_are_flagged(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "who": ["v"] * 501 + ["w"],
            "what": ["p"] * 502,
            # summer: London is UTC+1; 2026-03-29 01:30 does not exist in London (clocks go forward)
            "when": ["2026-07-01 10:00:00"] * 501 + ["2026-03-29 01:30:00"],
        }
    )
    source = tmp_path / "log.csv"
    rows.to_csv(source, index=False)
    mapping = {
        "columns": {"user_id": "who", "product_id": "what", "event_ts": "when"},
        "constants": {"event_type": "product_view"},
        "timestamp": {"format": "%Y-%m-%d %H:%M:%S", "time_zone": "Europe/London"},
    }
    result = import_log(source, parse_mapping(mapping), tmp_path / "landing")
    assert result.first_event == "2026-07-01 09:00:00"
    assert result.dropped == {"event_ts empty, not in format '%Y-%m-%d %H:%M:%S' or at a clock change": 1}
    assert result.busy_visitor_days == 1
    assert any("flags those visitors as bots" in note for note in result.notes)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"columns": {"event_ts": "t", "product_id": "p"}, "constants": {"event_type": "view"}},
            "outside the contract",
        ),
        ({"columns": {"event_ts": "t", "product_id": "p", "event_type": "e"}}, "must map its values"),
        ({"columns": {"event_ts": "t", "product_id": "p", "colour": "c"}}, "fields outside the contract"),
        ({"columns": {"product_id": "p"}, "constants": {"event_type": "purchase"}}, "`event_ts` needs"),
        ({"columns": {}, "mappings": {}}, "unknown sections"),
        (
            {"require": {"product_id": "("}, "columns": {"event_ts": "t", "product_id": "p"}},
            "regular expression",
        ),
    ],
)
def test_a_bad_mapping_says_what_is_wrong(document: dict[str, object], message: str) -> None:
    with pytest.raises(LakehouseError, match=re.escape(message)):
        parse_mapping({"constants": {"event_type": "purchase"}, **document})


def test_a_column_missing_from_the_source_is_named(tmp_path: Path) -> None:
    mapping = parse_mapping(
        {**CLICKS_MAPPING, "columns": {**CLICKS_MAPPING["columns"], "order_id": "basket"}}
    )  # type: ignore[dict-item]
    source = tmp_path / "clicks.csv"
    CLICKS.to_csv(source, index=False)
    with pytest.raises(LakehouseError, match="column 'basket' \\(for order_id\\) is not in the source"):
        import_log(source, mapping, tmp_path / "landing")


def test_the_command_line_reports_what_did_not_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(EXCERPT), "--mapping", "uci_online_retail", "--out", str(tmp_path)]) == 0
    report = capsys.readouterr().out
    assert "not mapped:" in report
    assert "order_id does not match" in report
    assert "next: lakehouse ingest" in report
    assert main(["import", str(EXCERPT), "--mapping", "no_such_preset", "--out", str(tmp_path)]) == 2


@pytest.mark.spark
def test_the_imported_log_ingests_into_bronze_without_quarantine(spark: SparkSession, tmp_path: Path) -> None:
    settings = replace(Settings.from_env(), home=tmp_path)
    result = import_log(EXCERPT, load_mapping("uci_online_retail"), settings.landing_dir)
    summary = ingest(spark, settings, database=f"bronze_import_{uuid4().hex[:8]}").summary()
    assert summary["events_bronze"] == result.events
    assert summary["events_quarantined"] == 0
    for feed in FEEDS[1:]:
        assert summary[f"{feed}_bronze"] == result.lines[feed]
        assert summary[f"{feed}_quarantined"] == 0
