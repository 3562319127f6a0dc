"""One benchmark figure, with what it is compared against and its goal."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Result:
    """A measured value, its baseline from the same run, and whether it met the goal."""

    name: str
    value: float
    unit: str
    baseline: float | None
    goal: str
    passed: bool

    @property
    def ratio(self) -> float | None:
        """value / baseline, when there is a baseline."""
        return None if not self.baseline else round(self.value / self.baseline, 3)

    def as_dict(self) -> dict:
        """The JSON shape of bench/results.json."""
        return {**asdict(self), "ratio": self.ratio}

    def line(self) -> str:
        """One human-readable line."""
        base = f" (baseline {self.baseline:,.1f}, ratio {self.ratio})" if self.baseline else ""
        verdict = "PASS" if self.passed else "FAIL"
        shown = f"{self.value:,.3f}" if abs(self.value) < 100 else f"{self.value:,.1f}"
        return f"{verdict} {self.name}: {shown} {self.unit}{base}; goal {self.goal}"
