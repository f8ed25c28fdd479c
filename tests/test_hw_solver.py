"""The folding solver's invariants on generated layer shapes: every choice respects FINN's
folding rules, the design fits the caps, throughput is monotone in the caps, an fps target is
met, and on single-resource problems the answer equals exhaustive search."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from qnnc.hw import analytic, solver

CAPACITY = {"LUT": 53200, "BRAM_18K": 280, "URAM": 0, "DSP": 220}
WIDTHS = st.sampled_from([2, 3, 10, 16, 24, 32, 49, 64, 100, 128, 256, 784])

matrix_units = st.lists(
    st.builds(analytic.MatrixUnit, name=st.just("x"), mw=WIDTHS, mh=WIDTHS, pixels=st.sampled_from([1, 1, 4, 16]),
              wbits=st.integers(1, 4), abits=st.integers(1, 4), signed_input=st.booleans()),
    min_size=1, max_size=4,
).map(lambda us: [analytic.MatrixUnit(f"l{i}", *list(u.__dict__.values())[1:]) for i, u in enumerate(us)])
caps = st.floats(0.05, 1.0)


def budget(cap: float) -> dict:
    return solver.budget_of(CAPACITY, dict.fromkeys(CAPACITY, cap))


@settings(max_examples=60, deadline=None)
@given(matrix_units, caps)
def test_choices_obey_finns_folding_rules_and_the_design_fits(mus, cap):
    units = [analytic.unit(u) for u in mus]
    found = solver.fastest(units, budget(cap), CAPACITY)
    for mu in mus:
        attrs = found.attrs()[mu.name]
        assert mu.mh % attrs["PE"] == 0 and mu.mw % attrs["SIMD"] == 0
        assert attrs["PE"] * attrs["SIMD"] * mu.wbits <= analytic.MAX_AP_INT_BITS
    if found.fits:
        assert solver.within(found.totals, budget(cap))
    assert found.totals == solver.totals(found.picks)
    assert found.cycles == max(analytic.cycles(mu, **_pe_simd(found, mu)) for mu in mus)


def _pe_simd(found, mu):
    attrs = found.attrs()[mu.name]
    return {"pe": attrs["PE"], "simd": attrs["SIMD"]}


@settings(max_examples=60, deadline=None)
@given(matrix_units, caps, caps)
def test_throughput_is_monotone_in_the_cap(mus, a, b):
    low, high = sorted((a, b))
    units = [analytic.unit(u) for u in mus]
    tight, loose = solver.fastest(units, budget(low), CAPACITY), solver.fastest(units, budget(high), CAPACITY)
    if tight.fits:
        assert loose.fits and loose.cycles <= tight.cycles


@settings(max_examples=60, deadline=None)
@given(matrix_units, st.integers(1, 5000))
def test_an_fps_target_is_met_whenever_it_is_reachable(mus, target):
    units = [analytic.unit(u) for u in mus]
    found = solver.cheapest(units, budget(1.0), CAPACITY, target)
    floor = max(u.fastest_cycles for u in units)
    assert found.cycles <= max(target, floor)
    fastest = solver.fastest(units, budget(1.0), CAPACITY)
    if fastest.fits and fastest.cycles <= target and found.fits:
        # cheapest never spends more than the fastest design does
        weights = solver.weightings(CAPACITY)[0]
        assert sum(weights[r] * found.totals[r] for r in weights) <= \
            sum(weights[r] * fastest.totals[r] for r in weights) + 1e-9


def synthetic_units(draw_costs):
    return [solver.Unit(name=f"u{i}", layer=None, choices=tuple(
        solver.Choice(attrs={f"u{i}": {"PE": j}}, cycles=cyc, cost={"LUT": lut}) for j, (cyc, lut) in enumerate(cs)))
        for i, cs in enumerate(draw_costs)]


choice_lists = st.lists(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 100)), min_size=1, max_size=5),
                        min_size=1, max_size=3)


@settings(max_examples=150, deadline=None)
@given(choice_lists, st.integers(0, 300))
def test_single_resource_answers_equal_exhaustive_search(costs, lut_budget):
    units = synthetic_units(costs)
    allowed = {"LUT": lut_budget, "BRAM_18K": 0, "URAM": 0, "DSP": 0}
    capacity = {"LUT": 300, "BRAM_18K": 0, "URAM": 0, "DSP": 0}
    designs = list(itertools.product(*(u.choices for u in units)))
    fitting = [d for d in designs if sum(c.cost["LUT"] for c in d) <= lut_budget]
    found = solver.fastest(units, allowed, capacity)
    assert found.fits == bool(fitting)
    if fitting:
        assert found.cycles == min(max(c.cycles for c in d) for d in fitting)
        target = found.cycles
        cheapest = min(sum(c.cost["LUT"] for c in d) for d in designs if max(c.cycles for c in d) <= target)
        assert solver.cheapest(units, allowed, capacity, target).totals["LUT"] == cheapest
