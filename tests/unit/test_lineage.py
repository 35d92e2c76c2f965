"""Which data products a failed check withholds: the product's table and everything upstream."""

from __future__ import annotations

from lakehouse.checks import CRITICAL, FAIL, SOURCE_RECO, WARNING, CheckResult
from lakehouse.validate.lineage import Lineage
from lakehouse.validate.publish import Product, withheld

LINEAGE = Lineage(
    {
        "bronze.events": set(),
        "bronze.cdc_orders": set(),
        "staging.stg_events": {"bronze.events"},
        "marts.fct_events": {"staging.stg_events"},
        "marts.fct_sessions": {"marts.fct_events"},
        "marts.fct_orders": {"bronze.cdc_orders"},
        "features.user_recommendations": {"marts.fct_events"},
    }
)
PRODUCTS = [
    Product(f"serving_{table.split('.')[1]}", f"serving.{table.split('.')[1]}", table)
    for table in (
        "marts.fct_events",
        "marts.fct_sessions",
        "marts.fct_orders",
        "features.user_recommendations",
    )
]


def failure(table: str, severity: str = CRITICAL) -> CheckResult:
    return CheckResult(SOURCE_RECO, table, "a check", severity, FAIL)


def test_a_failed_recommendation_check_withholds_the_recommendations_only() -> None:
    assert list(withheld(PRODUCTS, [failure("features.user_recommendations")], LINEAGE)) == [
        "serving.user_recommendations"
    ]


def test_a_failure_upstream_withholds_everything_built_from_it_and_nothing_else() -> None:
    assert set(withheld(PRODUCTS, [failure("staging.stg_events")], LINEAGE)) == {
        "serving.fct_events",
        "serving.fct_sessions",
        "serving.user_recommendations",
    }
    assert set(withheld(PRODUCTS, [failure("bronze.cdc_orders")], LINEAGE)) == {"serving.fct_orders"}


def test_warnings_withhold_nothing_and_the_reason_names_the_check() -> None:
    assert withheld(PRODUCTS, [failure("bronze.events", WARNING)], LINEAGE) == {}
    reasons = withheld(PRODUCTS, [failure("marts.fct_sessions")], LINEAGE)
    assert reasons == {"serving.fct_sessions": failure("marts.fct_sessions").describe()}
