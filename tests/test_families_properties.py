"""Invariants of every registered family, and of the loader, with Hypothesis (STYLE habit 7).

For random valid parameters of each family in ``model.families.REGISTRY``: the
quantile and the CDF invert each other, ``from_z`` agrees with scipy's
ppf(Φ(z)), the PyTensor quantile agrees with numpy's and the refit rule recovers
the family from a large sample of it. Random valid priors files load and run;
random invalid ones raise PriorsError naming the file, the key and the line.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from model import families as fam
from model.core.errors import PriorsError
from model.core.variables import BY_NAME, CRUXES, NAMES
from model.priors.schema import FAMILIES

FAST = settings(max_examples=8, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _f(lo: float, hi: float):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _three_point(cls, lo=-5.0, hi=5.0):
    return st.builds(lambda a, w, c: cls(a, a + c * w, a + w), _f(lo, hi), _f(0.5, 10.0), _f(0.0, 1.0))


#: Random valid parameters of every registered family (a new family must add its own here).
PARAMS = {
    "point": st.builds(fam.Point, _f(-10, 10)),
    "normal": st.builds(fam.Normal, _f(-5, 5), _f(0.05, 5)),
    "lognormal": st.builds(fam.LogNormal, _f(-2, 2), _f(0.05, 1.5)),
    "logitnormal": st.builds(fam.LogitNormal, _f(-3, 3), _f(0.1, 2)),
    "beta": st.builds(fam.Beta, _f(0.6, 20), _f(0.6, 20)),
    "uniform": st.builds(lambda a, w: fam.Uniform(a, a + w), _f(-5, 5), _f(0.1, 10)),
    "triangular": _three_point(fam.Triangular),
    "pert": _three_point(fam.Pert),
    "gamma": st.builds(fam.Gamma, _f(0.6, 20), _f(0.1, 5)),
    "mixture": st.builds(
        lambda m1, m2, s, w: fam.Mixture((fam.LogNormal(m1, s), fam.LogNormal(m1 + m2, s)), (w, 1 - w)),
        _f(-1, 1),
        _f(1.0, 3.0),
        _f(0.1, 0.4),
        _f(0.2, 0.8),
    ),
}
CONTINUOUS = [f for f in fam.REGISTRY if f != "point"]


def test_every_registered_family_has_parameters_here():
    assert set(PARAMS) == set(fam.REGISTRY) == set(FAMILIES)


def _scipy(m):
    """An independent scipy construction of ``m`` (None where scipy has no such family)."""
    return {
        "normal": lambda: stats.norm(m.mean, m.sd),
        "lognormal": lambda: stats.lognorm(m.sigma, scale=np.exp(m.mu)),
        "beta": lambda: stats.beta(m.alpha, m.beta),
        "uniform": lambda: stats.uniform(m.low, m.high - m.low),
        "triangular": lambda: stats.triang((m.mode - m.min) / (m.max - m.min), loc=m.min, scale=m.max - m.min),
        "pert": lambda: stats.beta(
            1 + 4 * (m.mode - m.min) / (m.max - m.min),
            1 + 4 * (m.max - m.mode) / (m.max - m.min),
            loc=m.min,
            scale=m.max - m.min,
        ),
        "gamma": lambda: stats.gamma(m.shape, scale=m.scale),
    }.get(m.family, lambda: None)()


U = np.linspace(0.02, 0.98, 49)


@pytest.mark.parametrize("family", CONTINUOUS)
def test_ppf_and_cdf_invert_each_other(family):
    @FAST
    @given(PARAMS[family])
    def check(m):
        x = m.ppf(U)
        np.testing.assert_allclose(m.cdf(x), U, atol=1e-9)
        scale = float(np.ptp(m.ppf(np.array([0.01, 0.99]))))
        np.testing.assert_allclose(m.ppf(m.cdf(x)), x, rtol=1e-7, atol=1e-9 * scale)

    check()


@pytest.mark.parametrize("family", [f for f in CONTINUOUS if f != "mixture"])
def test_from_z_agrees_with_scipy(family):
    z = np.concatenate([np.linspace(-6, 5, 45), np.random.default_rng(3).standard_normal(200)])

    @FAST
    @given(PARAMS[family])
    def check(m):
        ref = _scipy(m)
        want = special.expit(m.mu + m.sigma * z) if ref is None else ref.ppf(special.ndtr(z))
        scale = float(np.ptp(m.ppf(np.array([0.001, 0.999]))))
        np.testing.assert_allclose(m.from_z(z), want, rtol=1e-7, atol=1e-9 * scale)

    check()


def test_truncated_from_z_agrees_with_scipy():
    m = fam.Truncated(fam.Normal(1.0, 2.0), -0.5, 3.0)
    ref = stats.truncnorm(-0.75, 1.0, loc=1.0, scale=2.0)
    z = np.linspace(-6, 5, 101)
    np.testing.assert_allclose(m.from_z(z), ref.ppf(special.ndtr(z)), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("family", fam.REGISTRY)
def test_pytensor_quantile_agrees_with_numpy(family):
    """One graph per family holding three random members, compiled once (FAST_COMPILE)."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    members = st.lists(PARAMS[family], min_size=3, max_size=3)

    @settings(max_examples=1, derandomize=True, deadline=None)
    @given(members)
    def check(ms):
        z = pt.dvector("z")
        f = pytensor.function([z], [m.from_z_tensor(z) for m in ms], mode="FAST_COMPILE")
        zz = np.linspace(-4, 4, 33)
        for m, got in zip(ms, f(zz)):
            np.testing.assert_allclose(got, m.from_z(zz), rtol=1e-7, atol=1e-9)

    check()


def _from_table(table):
    """A table as a priors file writes it, built as the loader does (nested parts first)."""
    if not isinstance(table, dict):
        return fam.Point(float(table))
    spec = FAMILIES[table["dist"]].model_validate(table)
    return spec.to_marginal(tuple(_from_table(v) for _, v in spec.parts()))


#: Refit rules that do not aim at the family itself (uniform: its 0.5th and 99.5th percentiles).
REFIT_TOLERANCE = {"uniform": 0.02}


@pytest.mark.parametrize("family", fam.REGISTRY)
def test_refit_recovers_the_family(family):
    n = 100_000
    z = np.random.default_rng(11).standard_normal(n)
    w = np.full(n, 1 / n)

    @settings(max_examples=4, derandomize=True, deadline=None)
    @given(PARAMS[family])
    def check(m):
        table = m.refit(m.from_z(z), w)
        if not isinstance(table, dict):
            assert table == pytest.approx(m.ppf(np.array([0.5]))[0], rel=1e-5, abs=1e-12)
            return
        back = _from_table(table)
        assert back.family == m.family
        x = m.ppf(np.linspace(0.05, 0.95, 19))  # CDFs compared (a mixture's median may sit in a gap)
        np.testing.assert_allclose(back.cdf(x), m.cdf(x), atol=REFIT_TOLERANCE.get(family, 0.01))

    check()


# -- the loader -------------------------------------------------------------------------------


def _menu(support: str):
    """Table strategies of families valid for a variable with this support (registry names)."""
    lo = 0.05 if support in ("positive", "nonnegative", "probability") else -3.0
    hi = 0.95 if support == "probability" else 8.0
    a, b = st.floats(lo, (lo + hi) / 2), st.floats(0.1, 0.9)

    def span(x, frac):  # an upper end between x and hi
        return x + frac * (hi - x)

    menu = [
        st.builds(lambda x: f"{x:.6g}", a),
        st.builds(lambda x, f: f'{{ dist = "uniform", low = {x:.6g}, high = {span(x, f):.6g} }}', a, b),
        st.builds(
            lambda x, f, g, d: (
                f'{{ dist = "{d}", min = {x:.6g}, mode = {x + g * (span(x, f) - x):.6g}, max = {span(x, f):.6g} }}'
            ),
            a,
            b,
            st.floats(0, 1),
            st.sampled_from(["triangular", "pert"]),
        ),
    ]
    if support == "probability":
        menu += [
            st.builds(lambda x, f: f'{{ dist = "logitnormal", ci90 = [{x:.6g}, {span(x, f):.6g}] }}', a, b),
            st.builds(
                lambda p, q: f'{{ dist = "beta", alpha = {p:.4g}, beta = {q:.4g} }}',
                st.floats(1.5, 10),
                st.floats(1.5, 10),
            ),
        ]
    elif support in ("positive", "nonnegative"):
        menu += [
            st.builds(lambda x, f: f'{{ dist = "lognormal", ci90 = [{x:.6g}, {span(x, f):.6g}] }}', a, b),
            st.builds(
                lambda k, s: f'{{ dist = "gamma", shape = {k:.4g}, scale = {s:.4g} }}',
                st.floats(1.5, 10),
                st.floats(0.1, 1),
            ),
            st.builds(
                lambda x, f, m: (
                    f'{{ dist = "mixture", weights = [{m:.3f}, {1 - m:.3f}], components = ['
                    f'{{ dist = "lognormal", ci90 = [{x:.6g}, {span(x, f):.6g}] }}, '
                    f"{x:.6g}] }}"
                ),
                a,
                b,
                st.floats(0.2, 0.8),
            ),
            st.builds(
                lambda x, s: f'{{ dist = "normal", mean = {x:.6g}, sd = {s:.4g}, lower = 0.05 }}', a, st.floats(0.1, 1)
            ),
        ]
    else:
        menu += [st.builds(lambda x, s: f'{{ dist = "normal", mean = {x:.6g}, sd = {s:.4g} }}', a, st.floats(0.1, 1))]
    return st.one_of(menu)


def _file(tmp_path, lines: dict[str, str], base: bool, extra: str = "") -> tuple:
    """A priors file setting ``lines`` (name → TOML value); each variable's line number."""
    body = ["[meta]", 'name = "random"'] + (['base = "author"'] if base else [])
    where = {}
    for table, names in (("cruxes", CRUXES), ("parameters", [n for n in NAMES if n not in CRUXES])):
        body += ["", f"[{table}]"]
        for name in names:
            if name in lines:
                body.append(f"{name} = {lines[name]}")
                where[name] = len(body)
    path = tmp_path / "random.toml"
    path.write_text("\n".join(body) + "\n" + extra, encoding="utf-8")
    return path, where


#: Variables safe to give any valid family in their support (the trial run keeps the others at
#: the author's values by inheriting them, or at moderate points without a base).
MODERATE = {name: 0.5 if BY_NAME[name].support == "probability" else 1.0 for name in NAMES}
MODERATE.update(
    alignment_difficulty=6.0,
    technique_strength=4.5,
    field_years=12.0,
    years_to_build=3.0,
    years_to_agi=9.0,
    automation_fraction=0.9,
    sharpness=0.5,
    timing_noise=0.6,
)


@FAST
@given(st.data(), st.booleans())
def test_random_valid_priors_load_and_run(tmp_path_factory, data, base):
    from model.montecarlo.engine import simulate
    from model.priors.priors import load

    chosen = data.draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    lines = {} if base else {n: f"{v!r}" for n, v in MODERATE.items()}
    lines.update({n: data.draw(_menu(BY_NAME[n].support), label=n) for n in chosen})
    path, _ = _file(tmp_path_factory.mktemp("valid"), lines, base)
    p = load(path)
    result = simulate(p, samples=2000, seed=1, workers=1)
    assert result is not None


#: Invalid values: (TOML value, key suffix the problem must name).
INVALID = {
    "unknown key": ('{ dist = "normal", mean = 1, sd = 1, sdd = 2 }', ".sdd"),
    "wrong type": ('{ dist = "normal", mean = 1, sd = "1" }', ".sd"),
    "bad bound": ('{ dist = "normal", mean = 1, sd = 1, lower = 2, upper = 1 }', ""),
    "ci90 reversed": ('{ dist = "lognormal", ci90 = [3, 1] }', ""),
    "unknown dist": ('{ dist = "lognormall", ci90 = [1, 3] }', ".dist"),
    "a to b reversed": ('"5 to 2"', ""),
    "not a number": ("true", ""),
    "mixture weights": ('{ dist = "mixture", weights = [0.5, 0.6], components = [1, 2] }', ""),
}


@FAST
@given(
    st.sampled_from(NAMES),
    st.sampled_from(sorted(INVALID)),
    st.booleans(),
    st.lists(st.sampled_from(NAMES), max_size=3, unique=True),
)
def test_random_invalid_priors_name_file_key_and_line(tmp_path_factory, name, kind, base, others):
    from model.priors.priors import load

    value, suffix = INVALID[kind]
    lines = {} if base else {n: f"{v!r}" for n, v in MODERATE.items()}
    lines.update({n: f"{MODERATE[n]!r}" for n in others})
    lines[name] = value
    path, where = _file(tmp_path_factory.mktemp("invalid"), lines, base)
    with pytest.raises(PriorsError) as err:
        load(path)
    table = "cruxes" if name in CRUXES else "parameters"
    key = f"{table}.{name}{suffix}"
    found = [p for p in err.value.problems if p.key == key]
    assert found, [str(p) for p in err.value.problems]
    assert found[0].file == path and found[0].line == where[name]
    assert str(path) in str(found[0])
