"""Percentiles, ratios and their spread, for tools/bench/run.py."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of values, by linear interpolation."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Run:
    """One measurement: every call's latency in seconds, and the wall time."""

    latencies: Sequence[float]
    elapsed: float

    @property
    def p50(self) -> float:
        """The median latency."""
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        """The 99th percentile latency."""
        return percentile(self.latencies, 99)

    @property
    def throughput(self) -> float:
        """Calls per second over the wall time."""
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    @classmethod
    def joined(cls, parts: Sequence[Run]) -> Run:
        """One run of parts measured in turns: their latencies, and their wall times summed."""
        return cls([t for part in parts for t in part.latencies], sum(p.elapsed for p in parts))


@dataclass(frozen=True)
class Figure:
    """A figure over repetitions: the median of each statistic, and its spread.

    The spread is (max - min) / median of the repetitions' p50, a plain
    measure of how much the machine's noise moved the figure.
    """

    p50: float
    p99: float
    throughput: float
    spread: float
    repetitions: int

    @classmethod
    def of(cls, runs: Sequence[Run]) -> Figure:
        """The figure of the repetitions runs."""
        p50s = [r.p50 for r in runs]
        median = statistics.median(p50s)
        spread = (max(p50s) - min(p50s)) / median if median > 0 else 0.0
        return cls(
            p50=median,
            p99=statistics.median([r.p99 for r in runs]),
            throughput=statistics.median([r.throughput for r in runs]),
            spread=spread,
            repetitions=len(runs),
        )

    def as_dict(self) -> dict[str, float]:
        """The figure for results.json, in microseconds."""
        return {
            "p50_us": self.p50 * 1e6,
            "p99_us": self.p99 * 1e6,
            "throughput_per_s": self.throughput,
            "spread": self.spread,
            "repetitions": self.repetitions,
        }


def paired_ratio(runs: Sequence[Run], baselines: Sequence[Run], stat: str = "p50") -> float:
    """The median of the per-repetition ratios run/baseline of a statistic.

    Each repetition measured both sides back to back, so that the machine's
    noise, which drifts over seconds, hits both alike.
    """
    ratios = [float(getattr(r, stat)) / float(getattr(b, stat)) for r, b in zip(runs, baselines)]
    return statistics.median(ratios)
