"""`lakehouse import`: bring your own event log (CSV or Parquet) into the landing zone."""
