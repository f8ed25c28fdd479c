"""Choose a folding: per FINN unit, one of its legal parallelism settings.

A *unit* is a FINN hardware node (or a node tied to its producer, like a pool and its window
generator) with its legal *choices*: the attributes to set and, for each, the cycles per frame
and resources that FINN's cost model gives. Units are independent: the design's cycles per
frame are those of its slowest unit (the bottleneck) and its resources are the sum.

- ``fastest``: the fewest cycles per frame whose design fits the budget (``fps: max``);
- ``cheapest``: the least resources whose design meets a cycles-per-frame target.

For a cycles target ``T`` each unit takes its cheapest choice with ``cycles <= T``, cheapest
under a fixed weighting of the resources. The weightings depend on the board's capacity, never
on the budget, so a larger budget can only admit more targets: the result is monotone in the
utilization caps. Several weightings are tried (balanced, then each resource made dear) so
that a design short of BRAM can trade it for LUTs, as a FINN user would by hand.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

RESOURCES = ("LUT", "BRAM_18K", "URAM", "DSP")
DEAR = 10.0  # how much dearer a resource is in the weighting that spares it


@dataclass(frozen=True)
class Choice:
    attrs: Mapping[str, Mapping[str, object]]  # FINN node name -> attributes to set
    cycles: int
    cost: Mapping[str, float]  # resource -> amount
    alternative: bool = False  # departs from FINN's defaults (e.g. weights in LUT-RAM)

    def weighted(self, weights: Mapping[str, float]) -> float:
        return sum(weights[r] * self.cost.get(r, 0) for r in RESOURCES)


@dataclass(frozen=True)
class Unit:
    name: str  # the FINN node the unit is named after
    layer: str | None  # the spec layer it implements, if any
    choices: tuple[Choice, ...]

    @property
    def fastest_cycles(self) -> int:
        return min(c.cycles for c in self.choices)


@dataclass(frozen=True)
class Solution:
    picks: dict[str, Choice]  # unit name -> choice
    fits: bool
    totals: dict[str, float] = field(default_factory=dict)

    @property
    def cycles(self) -> int:
        return max(c.cycles for c in self.picks.values())

    @property
    def bottleneck(self) -> str:
        return max(self.picks, key=lambda name: self.picks[name].cycles)

    def fps(self, clock_mhz: float) -> float:
        return clock_mhz * 1e6 / self.cycles

    def attrs(self) -> dict[str, dict]:
        """FINN node -> attributes: the body of FINN's folding config JSON."""
        return {node: dict(a) for choice in self.picks.values() for node, a in choice.attrs.items()}


def io_unit(name: str, cycles: int) -> Unit:
    """The board's I/O as a unit with one setting: a ceiling on throughput whatever the folding,
    so the solver never spends resources on a unit faster than the I/O can feed."""
    return Unit(name=name, layer=None, choices=(Choice(attrs={}, cycles=cycles, cost=dict.fromkeys(RESOURCES, 0)),))


def weightings(capacity: Mapping[str, float]) -> list[dict[str, float]]:
    """Balanced (each resource as a fraction of the board), then each resource made dear."""
    base = {r: (1.0 / capacity[r] if capacity.get(r) else 1e6) for r in RESOURCES}
    dear = [{r: w * (DEAR if r == spared else 1.0) for r, w in base.items()}
            for spared in RESOURCES if capacity.get(spared)]
    return [base, *dear]


class _Staircase:
    """One unit's cheapest choice for every cycles target, under one weighting."""

    def __init__(self, unit: Unit, weights: Mapping[str, float]):
        ordered = sorted(unit.choices, key=lambda c: (c.cycles, c.weighted(weights)))
        self.cycles: list[int] = []
        self.best: list[Choice] = []
        for choice in ordered:
            # a slower choice that costs more is never picked; one that costs the same is
            # preferred (no parallelism that buys nothing, even where FINN's model says it is free)
            if not self.best or choice.weighted(weights) <= self.best[-1].weighted(weights):
                self.cycles.append(choice.cycles)
                self.best.append(choice)

    def pick(self, target: int) -> Choice | None:
        i = bisect.bisect_right(self.cycles, target) - 1
        return self.best[i] if i >= 0 else None


def totals(picks: Mapping[str, Choice]) -> dict[str, float]:
    return {r: sum(c.cost.get(r, 0) for c in picks.values()) for r in RESOURCES}


def within(amounts: Mapping[str, float], budget: Mapping[str, float]) -> bool:
    return all(amounts.get(r, 0) <= budget.get(r, 0) for r in RESOURCES if amounts.get(r, 0) > 0)


def _select(stairs: Mapping[str, _Staircase], target: int) -> dict[str, Choice] | None:
    picks = {name: s.pick(target) for name, s in stairs.items()}
    return None if any(c is None for c in picks.values()) else picks


def _solution(picks: dict[str, Choice], budget: Mapping[str, float]) -> Solution:
    amounts = totals(picks)
    return Solution(picks=picks, fits=within(amounts, budget), totals=amounts)


def _defaults_only(units: list[Unit]) -> list[Unit]:
    return [Unit(u.name, u.layer, tuple(c for c in u.choices if not c.alternative) or u.choices) for u in units]


def fastest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float]) -> Solution:
    """The fewest cycles per frame that fit the budget; if nothing fits, the cheapest design
    (``fits`` is False). Alternatives to FINN's defaults are used only where they buy speed."""
    plain = _fastest(_defaults_only(units), budget, capacity)
    full = _fastest(units, budget, capacity)
    return full if full.fits and (not plain.fits or full.cycles < plain.cycles) else plain


def cheapest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float],
             max_cycles: int) -> Solution:
    """The least resources with every unit at or under ``max_cycles``. Units that cannot get
    there take their fastest choice; the solution's ``cycles`` then shows the miss.
    Alternatives to FINN's defaults are used only where the design would not fit without."""
    plain = _cheapest(_defaults_only(units), budget, capacity, max_cycles)
    return plain if plain.fits else _cheapest(units, budget, capacity, max_cycles)


def _fastest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float]) -> Solution:
    floor = max(u.fastest_cycles for u in units)
    targets = sorted({c.cycles for u in units for c in u.choices if c.cycles >= floor})
    best: Solution | None = None
    balanced = weightings(capacity)[0]
    for weights in weightings(capacity):
        stairs = {u.name: _Staircase(u, weights) for u in units}
        limit = targets if best is None else [t for t in targets if t <= best.cycles]
        found = _first_fitting(stairs, limit, budget)
        if found and (best is None or (found.cycles, _weight(found, balanced)) < (best.cycles,
                                                                                  _weight(best, balanced))):
            best = found
    return best or _cheapest(units, budget, capacity, max(targets))


SCAN = 256  # targets checked one by one below a bisection's answer


def _first_fitting(stairs, targets: list[int], budget) -> Solution | None:
    """The design at the smallest target that fits. Fitting is nearly monotone in the target
    (a looser target never costs more under the weighting, though one resource may rise), so
    a bisection finds a fitting target and a scan of the targets below it finds the first."""
    def at(i: int) -> Solution:
        return _solution(_select(stairs, targets[i]), budget)

    if not targets or not at(len(targets) - 1).fits:
        return None
    lo, hi = 0, len(targets) - 1  # hi fits
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if at(mid).fits else (mid + 1, hi)
    first = next((i for i in range(max(0, hi - SCAN), hi) if at(i).fits), hi)
    return at(first)


def _cheapest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float],
              max_cycles: int) -> Solution:
    target = max(max_cycles, max(u.fastest_cycles for u in units))
    balanced = weightings(capacity)[0]
    found = [_solution(_select({u.name: _Staircase(u, w) for u in units}, target), budget)
             for w in weightings(capacity)]
    fitting = [s for s in found if s.fits]
    return min(fitting or found[:1], key=lambda s: _weight(s, balanced))


def _weight(solution: Solution, weights: Mapping[str, float]) -> float:
    return sum(weights[r] * solution.totals.get(r, 0) for r in RESOURCES)


def budget_of(capacity: Mapping[str, float], caps: Mapping[str, float]) -> dict[str, float]:
    """Resource amounts allowed: the board's capacity times the utilization cap."""
    return {r: capacity.get(r, 0) * caps.get(r, 1.0) for r in RESOURCES}
