"""`ingest()`: landed JSON lines → bronze tables, exactly once, nothing lost.

One Structured Streaming query per feed reads new landing files as text (`trigger(availableNow)`,
checkpointed), so a re-run reads nothing twice and a new landing day is picked up incrementally.
Each micro-batch parses lines against the contract and writes valid rows to the feed's bronze
table and the rest to `bronze.quarantine`. Writes overwrite the batch's own partitions
(`_batch_id`, ...): if a batch is replayed after a crash, it replaces its earlier output instead
of duplicating it, which is what makes the sink idempotent on the batch id for Parquet and Delta.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.streaming import StreamingQuery

from lakehouse import table_format
from lakehouse.checks import CRITICAL, FAIL, SOURCE_INGEST, CheckResult
from lakehouse.config import Settings
from lakehouse.contracts import landing as landing_layout
from lakehouse.contracts.cdc import CDC_FEEDS
from lakehouse.errors import LakehouseError, one_line
from lakehouse.ingest import parse, tables
from lakehouse.spark import runtime_conf

LANDING_FEEDS = landing_layout.FEEDS
# Landed bytes per micro-batch (at least one file): each batch's parsed rows are cached while it
# is written, so the batch size bounds the heap ingestion needs whatever the backlog.
MAX_BYTES_PER_BATCH = 512 * 1024 * 1024
# A batch's cache is written once and read twice, right away, so it is not encoded: on warm 1.68M-line
# batches parse and cache took 25-28 s instead of 30-32 s (a cold 1M ingest: no difference). Streams
# clone the session's conf when they start, so it is set around ingestion only.
INGEST_CONF = {"spark.sql.inMemoryColumnarStorage.compressed": "false"}
STRINGS_FLAG = "_numbers_sent_as_strings"
# A batch this large gets a progress line on stderr (a 10M-event backlog is minutes of work).
PROGRESS_MIN_LINES = 100_000


def quarantine_feed(landing_feed: str) -> str:
    """Feed name used in `bronze.quarantine` (events, users, products, orders)."""
    return landing_feed.removeprefix("cdc_")


def bronze_table(landing_feed: str, database: str = tables.DATABASE) -> str:
    name = tables.EVENTS if landing_feed == "events" else tables.cdc_table(quarantine_feed(landing_feed))
    return f"{database}.{name}"


@dataclass
class FeedCounts:
    landed: int = 0  # lines landed: the producers' manifests, or counted where a file came without
    files_without_manifest: int = 0  # landed files whose lines ingestion counted itself
    bronze: int = 0  # rows in the bronze table
    quarantined: int = 0  # rows in bronze.quarantine for the feed
    added_bronze: int = 0  # ... written by this run
    added_quarantined: int = 0
    batches: int = 0
    mismatched_files: list[str] = field(default_factory=list)  # what differs, file by file

    @property
    def reconciled(self) -> bool:
        return self.landed == self.bronze + self.quarantined


@dataclass
class IngestResult:
    feeds: dict[str, FeedCounts]
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    drift: dict[str, Any] = field(default_factory=dict)
    schema_changes: dict[str, list[str]] = field(default_factory=dict)  # table -> columns added
    seconds: float = 0.0

    @property
    def reconciled(self) -> bool:
        return all(counts.reconciled for counts in self.feeds.values())

    def summary(self) -> dict[str, Any]:
        """Flat figures for `target/run_summary.json` (events_landed, events_bronze, ...)."""
        out: dict[str, Any] = {}
        for feed, counts in self.feeds.items():
            out.update(
                {
                    f"{feed}_landed": counts.landed,
                    f"{feed}_bronze": counts.bronze,
                    f"{feed}_quarantined": counts.quarantined,
                    f"{feed}_added_this_run": counts.added_bronze + counts.added_quarantined,
                    f"{feed}_files_without_manifest": counts.files_without_manifest,
                }
            )
        out["ingest_reconciled"] = self.reconciled
        out["quarantine_reasons"] = self.quarantine_reasons
        out["schema_drift"] = self.drift
        out["schema_changes"] = self.schema_changes
        return out

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reconciled": self.reconciled}

    def failures(self) -> list[CheckResult]:
        """One failed check per feed whose landed lines are not all in bronze or quarantine."""
        return [
            CheckResult(
                source=SOURCE_INGEST,
                object=bronze_table(feed),
                check="landed = bronze + quarantined",
                severity=CRITICAL,
                status=FAIL,
                failing_rows=abs(c.landed - c.bronze - c.quarantined),
                detail=f"landed {c.landed} != bronze {c.bronze} + quarantined {c.quarantined}"
                + "".join(f"; {mismatch}" for mismatch in c.mismatched_files),
            )
            for feed, c in self.feeds.items()
            if not c.reconciled
        ]


def describe(result: IngestResult) -> list[str]:
    """A line per feed: the reconciliation, what this run added, and any file that does not add up."""
    lines = []
    for feed, c in result.feeds.items():
        verdict = "ok" if c.reconciled else "MISMATCH"
        counted = f" ({c.files_without_manifest:,} files without a manifest: lines counted)"
        lines.append(
            f"{feed}: landed {c.landed:,} = bronze {c.bronze:,} + quarantined {c.quarantined:,} [{verdict}]; "
            f"this run +{c.added_bronze:,} bronze, +{c.added_quarantined:,} quarantined"
            + (counted if c.files_without_manifest else "")
        )
        lines.extend(f"  {feed}: {mismatch}" for mismatch in c.mismatched_files)
    return lines


def mismatched_files(
    spark: SparkSession, landing: Path, landing_feed: str, database: str, limit: int = 5
) -> list[str]:
    """The files whose landed lines differ from the rows loaded from them, each said in one
    phrase; the file's lines are counted again to tell a wrong manifest from a loss."""
    feed = quarantine_feed(landing_feed)
    loaded = Counter[str]()
    for frame in (
        spark.table(bronze_table(landing_feed, database)),
        spark.table(f"{database}.{tables.QUARANTINE}").where(sf.col("feed") == feed),
    ):
        for row in frame.groupBy("_source_file").count().collect():
            loaded[row["_source_file"]] += int(row["count"])
    found = []
    for relative in landing_layout.landed_files(landing, landing_feed):
        manifest = landing_layout.read_manifest(landing, relative) or {}
        said, got = int(manifest.get("lines", 0)), loaded.get(relative.as_posix(), 0)
        if said != got:
            holds = landing_layout.count_lines(landing / relative)
            source = "ingestion's count" if manifest.get("counted_by") else "its manifest"
            found.append(f"{relative}: {source} says {said} lines, the file holds {holds}, {got} loaded")
    return found[:limit]


def _with_file_columns(lines: DataFrame, batch_id: int) -> DataFrame:
    path = sf.col("_metadata.file_path")
    relative = sf.regexp_extract(path, r"([^/]+/arrival_date=[^/]+/[^/]+)$", 1)
    arrival = sf.to_date(sf.regexp_extract(path, r"arrival_date=(\d{4}-\d{2}-\d{2})", 1))
    return lines.select(
        parse.RAW,
        sf.when(relative != "", relative).otherwise(path).alias("_source_file"),
        sf.lit(None).cast("long").alias("_source_offset"),
        sf.coalesce(arrival, sf.current_date()).alias("_arrival_date"),
        sf.lit(batch_id).cast("long").alias("_batch_id"),
        sf.current_timestamp().alias("_ingested_at"),
    )


def _number_sent_as_string(line: Column) -> Column:
    """Substring tests, not a regex: `rlike` cost about 5 s more per 1.7M landed lines."""
    return line.contains('"quantity":"') | line.contains('"price":"')


def _insert(df: DataFrame, table: str) -> None:
    """Overwrite exactly the partitions present in `df` (all of one batch id): idempotent replays."""
    df.write.option("partitionOverwriteMode", "dynamic").insertInto(table, overwrite=True)


Lineage = Callable[[DataFrame, int], DataFrame]


def batch_writer(
    landing_feed: str,
    counts: FeedCounts,
    drift: Counter[str],
    database: str = tables.DATABASE,
    progress_min_lines: int = PROGRESS_MIN_LINES,
    lineage: Lineage = _with_file_columns,
) -> Callable[[DataFrame, int], None]:
    """The foreachBatch function of one feed's stream (also callable directly with a DataFrame);
    batches of at least `progress_min_lines` lines report on stderr when written. `lineage` turns
    the source's rows into the line (`value`) and the `_source_*`, `_arrival_date`, `_batch_id` and
    `_ingested_at` columns: landed files by default, Kafka records in `ingest.kafka`."""
    feed = quarantine_feed(landing_feed)
    table = bronze_table(landing_feed, database)
    quarantine = f"{database}.{tables.QUARANTINE}"
    columns: dict[str, list[str]] = {}  # each table's, in its order (a column added later is last)

    def write(batch: DataFrame, batch_id: int) -> None:
        if not columns:
            for name in (table, quarantine):
                columns[name] = batch.sparkSession.table(name).columns
        lines = lineage(batch, batch_id)
        parsed = parse.parse_events(lines) if feed == "events" else parse.parse_changes(lines, feed)
        is_valid = sf.col(parse.REASON).isNull()
        # The landed line is most of a row's bytes and only quarantine keeps it: cache it for
        # rejected lines only (and the drift flag it gives valid ones), a fraction of the memory.
        parsed = parsed.withColumns(
            {
                STRINGS_FLAG: is_valid & _number_sent_as_string(sf.col(parse.RAW)),
                parse.RAW: sf.when(~is_valid, sf.col(parse.RAW)),
            }
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            # Counting first materialises the cache, and tells which writes can be skipped: a
            # replay of the same batch reads the same files, so it skips the same writes.
            tally = parsed.agg(
                sf.count_if(is_valid).alias("valid"),
                sf.count_if(~is_valid).alias("rejected"),
                sf.count_if(STRINGS_FLAG).alias("strings"),
            ).first()
            valid, rejected = (int(tally["valid"]), int(tally["rejected"])) if tally else (0, 0)
            if valid:
                _insert(parsed.filter(is_valid).select(*columns[table]), table)
            if rejected:
                quarantined = parsed.filter(~is_valid).withColumns(
                    {
                        "raw_line": sf.col(parse.RAW),
                        "reason": sf.col(parse.REASON),
                        "feed": sf.lit(feed),
                    }
                )
                _insert(quarantined.select(*columns[quarantine]), quarantine)
        finally:
            parsed.unpersist()
        counts.added_bronze += valid
        counts.added_quarantined += rejected
        if feed == "events" and tally is not None:
            drift["numbers_sent_as_strings_this_run"] += int(tally["strings"])
        counts.batches += 1
        if valid + rejected >= progress_min_lines:
            print(
                f"  ingest {landing_feed}: batch {batch_id}: {valid:,} rows to bronze, "
                f"{rejected:,} quarantined ({counts.added_bronze:,} so far)",
                file=sys.stderr,
            )

    return write


def start_stream(
    spark: SparkSession,
    settings: Settings,
    landing_feed: str,
    writer: Callable[[DataFrame, int], None],
    max_files_per_batch: int | None = None,
    checkpoint_name: str = "bronze",
) -> StreamingQuery:
    source = settings.landing_dir / landing_feed
    source.mkdir(parents=True, exist_ok=True)
    reader = (
        spark.readStream.format("text")
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", landing_layout.FILE_GLOB)
    )
    if max_files_per_batch:
        reader = reader.option("maxFilesPerTrigger", str(max_files_per_batch))
    else:  # bounded micro-batches: one batch of 10M events (4 GB of JSON) exhausts a 4 GB heap
        reader = reader.option("maxBytesPerTrigger", str(MAX_BYTES_PER_BATCH))
    lines = reader.load(str(source)).select(parse.RAW, "_metadata")
    return start_available_now(lines, writer, settings, f"{checkpoint_name}_{landing_feed}")


def start_available_now(
    stream: DataFrame, writer: Callable[[DataFrame, int], None], settings: Settings, name: str
) -> StreamingQuery:
    """Run `writer` on each micro-batch of what `stream` has now, checkpointed under `name`."""
    return (
        stream.writeStream.foreachBatch(writer)
        .option("checkpointLocation", str(settings.checkpoint_dir / name))
        .trigger(availableNow=True)
        .queryName(name)
        .start()
    )


def await_streams(queries: dict[str, StreamingQuery]) -> None:
    """Wait for every query; the first failure stops the rest and becomes one clear error."""
    failure: tuple[str, Exception] | None = None
    for landing_feed, query in queries.items():
        try:
            if failure is not None:
                query.stop()
            query.awaitTermination()
        except Exception as exc:
            failure = failure or (landing_feed, exc)
    if failure is not None:
        feed, error = failure
        raise LakehouseError(f"ingesting {feed} failed: {one_line(error)}") from error


def drift_report(spark: SparkSession, database: str = tables.DATABASE) -> dict[str, Any]:
    """Schema drift as seen in bronze: contract-v2 rows and fields outside the contract (events), and
    fields a source table gained (CDC: `<feed>.<column>` -> rows carrying it)."""
    row = spark.sql(
        f"""
        select count_if(app_version is not null) as v2_rows,
               min(case when app_version is not null then event_ts end) as v2_first_event_ts,
               count_if(_extra_fields is not null) as rows_with_extra_fields
        from {database}.{tables.EVENTS}
        """
    ).first()
    keys = spark.sql(
        f"""
        select key, count(*) as n
        from (select explode(map_keys(from_json(_extra_fields, 'map<string,string>'))) as key
              from {database}.{tables.EVENTS} where _extra_fields is not null)
        group by key order by key
        """
    ).collect()
    cdc_extra: Counter[str] = Counter()
    for feed in CDC_FEEDS:
        for found in spark.sql(
            f"""
            select key, count(*) as n
            from (select explode(map_keys(from_json(_extra_fields, 'map<string,string>'))) as key
                  from {database}.{tables.cdc_table(feed)} where _extra_fields is not null)
            group by key
            """
        ).collect():
            cdc_extra[f"{feed}.{found['key']}"] = int(found["n"])
    return {
        "cdc_extra_fields": dict(sorted(cdc_extra.items())),
        "contract_v2_rows": int(row["v2_rows"]) if row else 0,
        "contract_v2_first_event_ts": str(row["v2_first_event_ts"])
        if row and row["v2_first_event_ts"]
        else None,
        "rows_with_extra_fields": int(row["rows_with_extra_fields"]) if row else 0,
        "extra_fields": {r["key"]: int(r["n"]) for r in keys},
    }


def ingest(
    spark: SparkSession,
    settings: Settings | None = None,
    max_files_per_batch: int | None = None,
    database: str = tables.DATABASE,
) -> IngestResult:
    """Ingest every new landing file of every feed; returns counts that reconcile to the manifests.

    A `database` other than `bronze` (tests, benchmarks) gets its own checkpoints too.
    """
    started = time.monotonic()
    settings = settings or Settings.from_env()
    fmt = table_format.resolve(settings)
    schema_changes = tables.ensure_bronze(spark, fmt.name, database)
    feeds = {feed: FeedCounts() for feed in LANDING_FEEDS}
    drift: Counter[str] = Counter()
    # The feeds' streams run side by side: their per-batch overheads (listing, checkpoint and
    # metastore commits) overlap instead of adding up. Each writes only its own partitions.
    writers = {feed: batch_writer(feed, counts, drift, database) for feed, counts in feeds.items()}
    with runtime_conf(spark, INGEST_CONF):
        queries = {
            feed: start_stream(spark, settings, feed, writer, max_files_per_batch, database)
            for feed, writer in writers.items()
        }
        await_streams(queries)
    by_reason = (
        spark.table(f"{database}.{tables.QUARANTINE}")
        .groupBy("feed", sf.split("reason", ":").getItem(0).alias("reason"))
        .count()
    )
    quarantined = {(r["feed"], r["reason"]): int(r["count"]) for r in by_reason.collect()}
    for landing_feed, counts in feeds.items():
        landed = landing_layout.landed_count(settings.landing_dir, landing_feed)
        counts.landed, counts.files_without_manifest = landed.lines, landed.files_without_manifest
        counts.bronze = spark.table(bronze_table(landing_feed, database)).count()
        feed = quarantine_feed(landing_feed)
        counts.quarantined = sum(n for (f, _reason), n in quarantined.items() if f == feed)
        if not counts.reconciled:
            counts.mismatched_files = mismatched_files(spark, settings.landing_dir, landing_feed, database)
    return IngestResult(
        feeds=feeds,
        quarantine_reasons={f"{feed}:{reason}": n for (feed, reason), n in sorted(quarantined.items())},
        drift={**drift_report(spark, database), **drift},
        schema_changes=schema_changes,
        seconds=round(time.monotonic() - started, 2),
    )
