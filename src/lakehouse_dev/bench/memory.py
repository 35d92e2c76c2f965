"""Peak memory of the processes a run uses, sampled in a background thread, and the machine's
CPU time (how busy the cores were during a stage).

The driver JVM is a child of this Python process (py4j launches it) and the Python UDF workers are
children of the JVM (the pyspark daemon forks them), so walking this process's descendants finds
both without asking Spark. RSS is summed per group; forked workers share pages with the daemon, so
the worker figure is an upper bound.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import psutil

MIB = 1024 * 1024


@dataclass(frozen=True)
class MemorySample:
    """RSS in MiB of each process group at one moment (seconds since sampling started)."""

    at_seconds: float
    driver_python_mb: float
    jvm_mb: float
    python_workers_mb: float

    @property
    def total_mb(self) -> float:
        return self.driver_python_mb + self.jvm_mb + self.python_workers_mb


def cpu_busy_and_total() -> tuple[float, float]:
    """Seconds all cores spent busy, and in all, since boot (busy: neither idle nor waiting for I/O;
    Linux counts guest time inside user time, so it is not added again)."""
    times = psutil.cpu_times()
    busy = sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))
    return busy, busy + times.idle + getattr(times, "iowait", 0.0)


def _is_java(proc: psutil.Process) -> bool:
    try:
        return proc.name().startswith("java")
    except psutil.Error:
        return False


def take_sample(root: psutil.Process, started: float) -> MemorySample:
    """One reading: this process, its JVM children, and every descendant of a JVM (the workers)."""
    jvm_rss = 0
    worker_rss = 0
    for child in root.children(recursive=False):
        if not _is_java(child):
            continue
        try:
            jvm_rss += child.memory_info().rss
            descendants = child.children(recursive=True)
        except psutil.Error:  # the process ended between listing and reading it
            continue
        for worker in descendants:
            try:
                worker_rss += worker.memory_info().rss
            except psutil.Error:
                continue
    return MemorySample(
        at_seconds=round(time.monotonic() - started, 3),
        driver_python_mb=root.memory_info().rss / MIB,
        jvm_mb=jvm_rss / MIB,
        python_workers_mb=worker_rss / MIB,
    )


@dataclass
class RssSampler:
    """Context manager sampling RSS every `interval_seconds` until it exits; keeps the whole series."""

    interval_seconds: float = 0.5
    samples: list[MemorySample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __enter__(self) -> RssSampler:
        root = psutil.Process()
        started = time.monotonic()

        def loop() -> None:
            while True:
                self.samples.append(take_sample(root, started))
                if self._stop.wait(self.interval_seconds):
                    return

        self._thread = threading.Thread(target=loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def peaks_mb(self) -> dict[str, float]:
        """Peak RSS of each group, and the peak of their sum at one moment (not the sum of peaks)."""
        if not self.samples:
            return {"driver_jvm": 0.0, "python_workers": 0.0, "driver_python": 0.0, "total": 0.0}
        return {
            "driver_jvm": round(max(s.jvm_mb for s in self.samples), 1),
            "python_workers": round(max(s.python_workers_mb for s in self.samples), 1),
            "driver_python": round(max(s.driver_python_mb for s in self.samples), 1),
            "total": round(max(s.total_mb for s in self.samples), 1),
        }
