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
OWN = ""  # in a choice's attributes, the node its unit is named after (so alike units share choices)
DEAR = 10.0  # how much dearer a resource is in the weighting that spares it


@dataclass(frozen=True, eq=False)
class Choice:
    """One setting of a unit; compared and hashed by identity (alike units share their choices)."""

    attrs: Mapping[str, Mapping[str, object]]  # FINN node name (or OWN) -> attributes to set
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
        return {node or name: dict(a) for name, choice in self.picks.items() for node, a in choice.attrs.items()}


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
    """One group's cheapest choice for every cycles target, under one weighting."""

    def __init__(self, choices: tuple[Choice, ...], weights: Mapping[str, float]):
        ordered = sorted(((c.cycles, c.weighted(weights), i) for i, c in enumerate(choices)))
        self.cycles: list[int] = []
        self.best: list[Choice] = []
        cheapest = float("inf")
        for cycles, weight, i in ordered:
            # a slower choice that costs more is never picked; one that costs the same is
            # preferred (no parallelism that buys nothing, even where FINN's model says it is free)
            if weight <= cheapest:
                cheapest = weight
                self.cycles.append(cycles)
                self.best.append(choices[i])

    def pick(self, target: int) -> Choice | None:
        i = bisect.bisect_right(self.cycles, target) - 1
        return self.best[i] if i >= 0 else None


@dataclass(frozen=True)
class _Group:
    """Units that share one tuple of choices (layers of the same shape and types): the solver
    works per group, so a spec of many alike layers costs what one of them does."""

    names: tuple[str, ...]
    choices: tuple[Choice, ...]


def _groups(units: list[Unit]) -> list[_Group]:
    by_choices: dict[int, tuple[list[str], tuple[Choice, ...]]] = {}
    for u in units:
        by_choices.setdefault(id(u.choices), ([], u.choices))[0].append(u.name)
    return [_Group(tuple(names), choices) for names, choices in by_choices.values()]


def totals(picks: Mapping[str, Choice]) -> dict[str, float]:
    return {r: sum(c.cost.get(r, 0) for c in picks.values()) for r in RESOURCES}


def within(amounts: Mapping[str, float], budget: Mapping[str, float]) -> bool:
    return all(amounts.get(r, 0) <= budget.get(r, 0) for r in RESOURCES if amounts.get(r, 0) > 0)


# A design in the making: per group, how many of its units take which choice.
_Design = list[dict[Choice, int]]


def _amounts(design: _Design) -> dict[str, float]:
    sums = [0.0] * len(RESOURCES)
    for counts in design:
        for choice, n in counts.items():
            for i, v in enumerate(choice._vector):
                sums[i] += n * v
    return dict(zip(RESOURCES, sums, strict=True))


def _select(groups: list[_Group], stairs: list[_Staircase], target: int) -> _Design | None:
    design = []
    for group, stair in zip(groups, stairs, strict=True):
        choice = stair.pick(target)
        if choice is None:
            return None
        design.append({choice: len(group.names)})
    return design


class _Candidate:
    """A design checked against the budget; its per-unit picks are spelled out only if chosen."""

    def __init__(self, groups: list[_Group], design: _Design | None, budget: Mapping[str, float]):
        self.groups, self.design = groups, design
        self.totals = _amounts(design) if design is not None else {}
        self.fits = design is not None and within(self.totals, budget)
        self.cycles = max((c.cycles for counts in design for c in counts), default=0) if design else 0

    def solution(self) -> Solution:
        if self.design is None:
            return Solution(picks={}, fits=False)
        picks: dict[str, Choice] = {}
        for group, counts in zip(self.groups, self.design, strict=True):
            names = iter(group.names)
            for choice, n in counts.items():
                picks.update((next(names), choice) for _ in range(n))
        order = {name: i for i, name in enumerate(n for g in self.groups for n in g.names)}
        picks = dict(sorted(picks.items(), key=lambda kv: order[kv[0]]))
        return Solution(picks=picks, fits=self.fits, totals=totals(picks))


def _defaults_only(groups: list[_Group]) -> list[_Group]:
    return [_Group(g.names, tuple(c for c in g.choices if not c.alternative) or g.choices) for g in groups]


def fastest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float]) -> Solution:
    """The fewest cycles per frame that fit the budget; if nothing fits, the cheapest design
    (``fits`` is False). Alternatives to FINN's defaults are used only where they buy speed."""
    groups = _groups(units)
    plain = _fastest(_defaults_only(groups), budget, capacity)
    full = _fastest(groups, budget, capacity)
    return (full if full.fits and (not plain.fits or full.cycles < plain.cycles) else plain).solution()


def cheapest(units: list[Unit], budget: Mapping[str, float], capacity: Mapping[str, float],
             max_cycles: int) -> Solution:
    """The least resources with every unit at or under ``max_cycles``. Units that cannot get
    there take their fastest choice; the solution's ``cycles`` then shows the miss.
    Alternatives to FINN's defaults are used only where the design would not fit without."""
    groups = _groups(units)
    plain = _cheapest(_defaults_only(groups), budget, capacity, max_cycles)
    return (plain if plain.fits else _cheapest(groups, budget, capacity, max_cycles)).solution()


def _stairs(groups: list[_Group], capacity: Mapping[str, float]) -> list[list[_Staircase]]:
    return [[_Staircase(g.choices, w) for g in groups] for w in weightings(capacity)]


def _fastest(groups: list[_Group], budget: Mapping[str, float], capacity: Mapping[str, float]) -> _Candidate:
    floor = max(min(c.cycles for c in g.choices) for g in groups)
    targets = sorted({c.cycles for g in groups for c in g.choices if c.cycles >= floor})
    best: _Candidate | None = None
    balanced = weightings(capacity)[0]
    all_stairs = _stairs(groups, capacity)
    searches = [lambda t, st=stairs: _Candidate(groups, _select(groups, st, t), budget) for stairs in all_stairs]
    searches.append(lambda t: _mixed(groups, all_stairs, t, budget, balanced))
    for at in searches:
        limit = targets if best is None else [t for t in targets if t <= best.cycles]
        found = _first_fitting(at, limit)
        if found and (best is None or (found.cycles, _weight(found, balanced)) < (best.cycles,
                                                                                  _weight(best, balanced))):
            best = found
    return best or _cheapest(groups, budget, capacity, max(targets))


def _mixed(groups: list[_Group], all_stairs: list[list[_Staircase]], target: int, budget: Mapping[str, float],
           balanced: Mapping[str, float]) -> _Candidate:
    """A design that mixes the weightings' choices unit by unit: from the balanced picks, move
    one unit at a time to another weighting's pick for the target, the move that most reduces
    the excess over the budget, until it fits or no move helps (a design short of BRAM keeps
    most weights in BRAM and moves just enough of them to LUT-RAM, as a FINN user would).
    Units of one group are alike, so a move is tried once per group and choice, not per unit."""
    options = [list({id(c): c for c in (s[i].pick(target) for s in all_stairs) if c is not None}.values())
               for i in range(len(groups))]
    base = _select(groups, all_stairs[0], target)
    if base is None:
        return _Candidate(groups, None, budget)
    amounts = _amounts(base)
    excess = _excess(amounts, budget)
    while excess > 0:
        best = None
        for i, counts in enumerate(base):
            for old in counts:
                for new_choice in options[i]:
                    if new_choice is old:
                        continue
                    new = {r: amounts[r] - old.cost.get(r, 0) + new_choice.cost.get(r, 0) for r in RESOURCES}
                    key = (_excess(new, budget), sum(balanced[r] * new[r] for r in RESOURCES))
                    if key[0] < excess and (best is None or key < best[0]):
                        best = (key, i, old, new_choice, new)
        if best is None:
            break
        (excess, _), i, old, new_choice, amounts = best
        counts = base[i]
        counts[old] -= 1
        if not counts[old]:
            del counts[old]
        counts[new_choice] = counts.get(new_choice, 0) + 1
    return _Candidate(groups, base, budget)


def _excess(amounts: Mapping[str, float], budget: Mapping[str, float]) -> float:
    return sum(max(0.0, amounts.get(r, 0) - budget.get(r, 0)) / max(budget.get(r, 0), 1) for r in RESOURCES)


SCAN = 256  # targets checked one by one below a bisection's answer


def _first_fitting(design, targets: list[int]) -> _Candidate | None:
    """The design at the smallest target that fits (``design`` maps a target to a design).
    Fitting is nearly monotone in the target (a looser target never costs more under the
    weighting, though one resource may rise), so a bisection finds a fitting target and a scan
    of the targets below it finds the first."""
    def at(i: int) -> _Candidate:
        return design(targets[i])

    if not targets or not at(len(targets) - 1).fits:
        return None
    lo, hi = 0, len(targets) - 1  # hi fits
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if at(mid).fits else (mid + 1, hi)
    first = next((i for i in range(max(0, hi - SCAN), hi) if at(i).fits), hi)
    return at(first)


def _cheapest(groups: list[_Group], budget: Mapping[str, float], capacity: Mapping[str, float],
              max_cycles: int) -> _Candidate:
    target = max(max_cycles, max(min(c.cycles for c in g.choices) for g in groups))
    balanced = weightings(capacity)[0]
    all_stairs = _stairs(groups, capacity)
    found = [_Candidate(groups, _select(groups, stairs, target), budget) for stairs in all_stairs]
    found.append(_mixed(groups, all_stairs, target, budget, balanced))
    fitting = [s for s in found if s.fits]
    return min(fitting or found[:1], key=lambda s: _weight(s, balanced))


def _weight(solution: _Candidate, weights: Mapping[str, float]) -> float:
    return sum(weights[r] * solution.totals.get(r, 0) for r in RESOURCES)


def budget_of(capacity: Mapping[str, float], caps: Mapping[str, float]) -> dict[str, float]:
    """Resource amounts allowed: the board's capacity times the utilization cap."""
    return {r: capacity.get(r, 0) * caps.get(r, 1.0) for r in RESOURCES}
