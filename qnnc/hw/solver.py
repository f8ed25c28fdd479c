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

    def __post_init__(self):
        lut, bram, uram, dsp = (float(self.cost.get(r, 0)) for r in RESOURCES)
        object.__setattr__(self, "_vector", (lut, bram, uram, dsp))

    def weighted(self, weights: Mapping[str, float]) -> float:
        a, b, c, d = self._vector
        return weights["LUT"] * a + weights["BRAM_18K"] * b + weights["URAM"] * c + weights["DSP"] * d


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
        ordered = sorted(((c.cycles, c.weighted(weights), i) for i, c in enumerate(unit.choices)))
        self.cycles: list[int] = []
        self.best: list[Choice] = []
        cheapest = float("inf")
        for cycles, weight, i in ordered:
            # a slower choice that costs more is never picked; one that costs the same is
            # preferred (no parallelism that buys nothing, even where FINN's model says it is free)
            if weight <= cheapest:
                cheapest = weight
                self.cycles.append(cycles)
                self.best.append(unit.choices[i])

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


def _solution(picks: dict[str, Choice] | None, budget: Mapping[str, float]) -> Solution:
    if picks is None:
        return Solution(picks={}, fits=False)
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
    all_stairs = [{u.name: _Staircase(u, w) for u in units} for w in weightings(capacity)]
    searches = [lambda t, st=stairs: _solution(_select(st, t), budget) for stairs in all_stairs]
    searches.append(lambda t: _mixed(all_stairs, t, budget, balanced))
    for at in searches:
        limit = targets if best is None else [t for t in targets if t <= best.cycles]
        found = _first_fitting(at, limit)
        if found and (best is None or (found.cycles, _weight(found, balanced)) < (best.cycles,
                                                                                  _weight(best, balanced))):
            best = found
    return best or _cheapest(units, budget, capacity, max(targets))


def _mixed(all_stairs: list[dict[str, _Staircase]], target: int, budget: Mapping[str, float],
           balanced: Mapping[str, float]) -> Solution:
    """A design that mixes the weightings' choices unit by unit: from the balanced picks, swap
    one unit at a time to another weighting's pick for the target, the swap that most reduces
    the excess over the budget, until it fits or no swap helps (a design short of BRAM keeps
    most weights in BRAM and moves just enough of them to LUT-RAM, as a FINN user would)."""
    options = {name: [s[name].pick(target) for s in all_stairs] for name in all_stairs[0]}
    if any(o[0] is None for o in options.values()):
        return Solution(picks={}, fits=False)
    picks = {name: o[0] for name, o in options.items()}
    amounts = totals(picks)
    excess = _excess(amounts, budget)
    while excess > 0:
        best = None
        for name, choices in options.items():
            for choice in {id(c): c for c in choices if c is not None and c is not picks[name]}.values():
                new = {r: amounts[r] - picks[name].cost.get(r, 0) + choice.cost.get(r, 0) for r in RESOURCES}
                key = (_excess(new, budget), sum(balanced[r] * new[r] for r in RESOURCES))
                if key[0] < excess and (best is None or key < best[0]):
                    best = (key, name, choice, new)
        if best is None:
            break
        (excess, _), name, choice, amounts = best
        picks[name] = choice
    return _solution(picks, budget)


def _excess(amounts: Mapping[str, float], budget: Mapping[str, float]) -> float:
    return sum(max(0.0, amounts.get(r, 0) - budget.get(r, 0)) / max(budget.get(r, 0), 1) for r in RESOURCES)


SCAN = 256  # targets checked one by one below a bisection's answer


def _first_fitting(design, targets: list[int]) -> Solution | None:
    """The design at the smallest target that fits (``design`` maps a target to a design).
    Fitting is nearly monotone in the target (a looser target never costs more under the
    weighting, though one resource may rise), so a bisection finds a fitting target and a scan
    of the targets below it finds the first."""
    def at(i: int) -> Solution:
        return design(targets[i])

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
    all_stairs = [{u.name: _Staircase(u, w) for u in units} for w in weightings(capacity)]
    found = [_solution(_select(stairs, target), budget) for stairs in all_stairs]
    found.append(_mixed(all_stairs, target, budget, balanced))
    fitting = [s for s in found if s.fits]
    return min(fitting or found[:1], key=lambda s: _weight(s, balanced))


def _weight(solution: Solution, weights: Mapping[str, float]) -> float:
    return sum(weights[r] * solution.totals.get(r, 0) for r in RESOURCES)


def budget_of(capacity: Mapping[str, float], caps: Mapping[str, float]) -> dict[str, float]:
    """Resource amounts allowed: the board's capacity times the utilization cap."""
    return {r: capacity.get(r, 0) * caps.get(r, 1.0) for r in RESOURCES}
