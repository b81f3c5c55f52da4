"""Hostile priors files: whatever ``validate`` accepts runs; whatever cannot run, ``validate``
rejects with the file, the key and the line. Never a traceback.

Each section is one class of bug; the tests try several members of each class.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core.errors import PriorsError
from model.priors.priors import MAX_BASE_DEPTH, MAX_BYTES, VALUE_LIMIT, load
from model.core.structure import outcomes, survival
from model.core.variables import BY_NAME, NAMES, VARIABLES

from .conftest import MIDDLE_WORLD, ROOT, aar_in_process

AUTHOR = ROOT / "priors" / "author.toml"


def aar(*args, cwd: Path, timeout: float = 300):
    """aar-risk as a user runs it, in this process (exit status, stdout, stderr)."""
    return aar_in_process(*args, cwd=cwd)


def on_author(folder: Path, body: str, name: str = "mine", meta: str = "") -> Path:
    """A priors file inheriting the repository's author.toml, with ``body`` after [meta]."""
    path = folder / f"{name}.toml"
    path.write_text(f'[meta]\nbase = "{AUTHOR.as_posix()}"\n{meta}\n{body}\n', encoding="utf-8")
    return path


def problems(path) -> list:
    with pytest.raises(PriorsError) as err:
        load(path)
    return err.value.problems


def one_problem(path, key: str, *phrases: str, line: int | None = None):
    """``path`` fails to load with exactly one problem, at ``key`` (and ``line``), saying ``phrases``."""
    found = problems(path)
    assert len(found) == 1, [str(p) for p in found]
    p = found[0]
    assert p.key == key, str(p)
    for phrase in phrases:
        assert phrase in p.message, str(p)
    if line is not None:
        assert p.line == line, str(p)
    return p


def rejected_by_cli(path: Path, key: str, cwd: Path):
    """validate and run both exit 2, name the key, and print no traceback."""
    for args in (("validate", path), ("run", path, "-n", 2000, "-o", cwd / "r", "-q")):
        r = aar(*args, cwd=cwd)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and key in r.stderr, r.stderr


def runs(p) -> None:
    """A loaded priors file simulates to finite outcome probabilities."""
    from model.montecarlo.engine import simulate

    result = simulate(p, samples=2000, seed=1, workers=1)
    for q, e in result.estimates.items():
        lo = -1.0 if q == "plan_minus_baseline" else 0.0
        assert math.isfinite(e.mean) and lo - 1e-9 <= e.mean <= 1 + 1e-9, (q, e)


# --- 1. reading the file ------------------------------------------------------------------------


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = on_author(tmp_path, "[parameters]\ncontainment = 0.3")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load(path).variables["containment"].marginal.value == 0.3
    path.write_bytes(path.read_bytes() + b"\nleakage = 2\n")  # lines still count from the top
    one_problem(path, "parameters.leakage", "must lie in [0, 1]", line=7)


@pytest.mark.parametrize(
    "data, line", [(b'[meta]\nname = "caf\xe9"\n', 2), (b"\xff\xfe[\x00m\x00", None), (b"[meta]\n\x80\n", 2)]
)
def test_text_that_is_not_utf8(tmp_path, data, line):
    path = tmp_path / "latin.toml"
    path.write_bytes(data)
    p = one_problem(path, "", "UTF-8")
    assert p.line == line


def test_directories_devices_and_pipes_are_refused(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    one_problem(tmp_path / "folder.toml", "", "a folder, not a regular priors file")
    one_problem(Path("/dev/zero"), "", "a device, not a regular priors file")
    one_problem(Path("/dev/null"), "", "a device")
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    one_problem(tmp_path / "zero.toml", "", "a device")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_does_not_hang(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    found = []
    worker = threading.Thread(target=lambda: found.append(problems(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader before failing
        with open(fifo, "w"):
            pass
        pytest.fail("load() blocked on a named pipe")
    assert "a named pipe, not a regular priors file" in found[0][0].message
    r = aar("validate", fifo, cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_a_huge_file_is_refused(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("#" * (MAX_BYTES + 1))
    one_problem(path, "", "larger than 1,000,000 bytes")
    path.write_text("# padding\n" * (MAX_BYTES // 20) + '[meta]\nbase = "author"\n')  # big but allowed
    assert load(path).name == "huge"


# --- 2. nesting bombs and endless base chains -------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "[" * 10_000 + "]" * 10_000,
        "{ a = " * 5000 + "1" + " }" * 5000,
        "[" * 300 + "1" + "]" * 300,
        "[{ b = " * 400 + "2" + " }]" * 400,
    ],
)
def test_nesting_bombs(tmp_path, value):
    path = on_author(tmp_path, f"[parameters]\ncontainment = {value}")
    one_problem(path, "parameters.containment", "nested too deeply", line=5)


def test_reasonable_nesting_still_reports_the_key(tmp_path):
    path = on_author(tmp_path, "[parameters]\ncontainment = " + "[" * 20 + "]" * 20)
    one_problem(path, "parameters.containment", "expected a number")


def _chain(folder: Path, n: int) -> Path:
    for i in range(n):
        (folder / f"f{i}.toml").write_text(f'[meta]\nbase = "f{i + 1}.toml"\n')
    (folder / f"f{n}.toml").write_text('[meta]\nbase = "author"\n')
    return folder / "f0.toml"


def test_a_thousand_base_files_deep(tmp_path):
    found = problems(_chain(tmp_path, 1000))
    assert len(found) == 1 and found[0].key == "meta.base" and found[0].line == 2
    assert f"more than {MAX_BASE_DEPTH} files" in found[0].message


def test_a_chain_within_the_limit_loads(tmp_path):
    assert load(_chain(tmp_path, MAX_BASE_DEPTH - 2)).variables["containment"]


def test_cycles_are_still_found(tmp_path):
    (tmp_path / "a.toml").write_text('[meta]\nbase = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[meta]\nbase = "c.toml"\n')
    (tmp_path / "c.toml").write_text('[meta]\nbase = "a.toml"\n')
    one_problem(tmp_path / "a.toml", "meta.base", "form a cycle")


# --- 3. a key or a table set twice -----------------------------------------------------------

# (text after [meta], the key named, the line it is first set on, the line it is set again on)
DUPLICATES = [
    ("[parameters]\ncontainment = 0.3\nleakage = 0.2\ncontainment = 0.4", "parameters.containment", 5, 7),
    ("[parameters]\ncontainment = 0.3\n[cruxes]\n[parameters]\nleakage = 0.2", "parameters", 4, 7),
    ('[parameters]\ncontainment = 0.3\n"containment" = 0.4', "parameters.containment", 5, 6),
    ("[parameters]\ncontainment = 0.5\n\n[parameters.containment]\ndist = 'point'", "parameters.containment", 5, 7),
    (
        '[parameters]\ncontainment = { dist = "beta", alpha = 3, beta = 3 }\ncontainment.source = "x"',
        "parameters.containment.source",
        5,
        6,
    ),
    ('[parameters]\ncontainment = { dist = "beta", alpha = 3, alpha = 4 }', "parameters.containment.alpha", 5, 5),
    (
        '[parameters]\ncontainment = { dist = "mixture", weights = [1], components = [\n'
        '    { dist = "beta", alpha = 3, beta = 3, "beta" = 4 }] }',
        "parameters.containment.beta",
        6,
        6,
    ),
    ("[calibration]\ntarget = 0.1\n# a comment\ntarget = 0.2", "calibration.target", 5, 7),
    ("[simulation]\nseed = 1\n[simulation]\nseed = 2", "simulation", 4, 6),
    (
        'description = """\n[parameters]\ncontainment = 1\n"""\n[parameters]\ncontainment = 0.3\ncontainment = 0.4',
        "parameters.containment",
        9,
        10,
    ),
    ("[parameters]\n'containment' = 0.3\n\n\ncontainment = [\n 0.4,\n]", "parameters.containment", 5, 8),
]


@pytest.mark.parametrize("body, key, first, again", DUPLICATES)
def test_a_key_set_twice_names_the_key_and_both_lines(tmp_path, body, key, first, again):
    p = one_problem(on_author(tmp_path, body), key, "twice", line=again)
    assert f"line {first}" in p.message and f"line {again}" in p.message or f"both on line {again}" in p.message
    assert "Cannot" not in p.message


# --- 4. what base may name -------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    [
        "../../../etc/passwd",
        "/etc/passwd",
        "..",
        "a/b",
        "author ",
        "",
        "a\\u0000b",
        "author.json",
        "x" * 5000,
        "~/author",
    ],
)
def test_a_preset_name_is_letters_digits_and_dashes(tmp_path, base):
    path = tmp_path / "mine.toml"
    path.write_text(f'[meta]\nbase = "{base}"\n')
    p = one_problem(path, "meta.base", "preset name", line=2)
    assert "passwd.toml" not in p.message


@pytest.mark.parametrize(
    "base",
    ["../../../../../../../../etc/passwd.toml", "folder.toml", "pipe.toml", "/dev/null.toml", "no_such_file.toml"],
)
def test_a_path_base_must_be_a_regular_toml_file(tmp_path, base):
    (tmp_path / "folder.toml").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.toml")
    path = tmp_path / "mine.toml"
    path.write_text(f'[meta]\nbase = "{base}"\n')
    one_problem(path, "meta.base", f'base "{base}"', line=2)


# --- 5. a file never inherits from itself --------------------------------------------------------


def test_a_preset_name_never_resolves_to_the_file_itself(tmp_path):
    (tmp_path / "priors").mkdir()
    path = tmp_path / "priors" / "author.toml"
    path.write_text('[meta]\nbase = "author"\n[parameters]\ncontainment = 0.25\n')
    p = load(path)
    assert p.base.resolve() == AUTHOR.resolve() and p.variables["containment"].marginal.value == 0.25
    (tmp_path / "priors" / "openai.toml").write_text('[meta]\nbase = "openai"\n')  # the preset's own base too
    assert load(tmp_path / "priors" / "openai.toml").variables["field_years"]


def test_init_then_validate_and_run_in_an_empty_folder(tmp_path):
    r = aar("init", "author", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert load(tmp_path / "priors" / "author.toml").base.resolve() == AUTHOR.resolve()
    v = aar("validate", "priors/author.toml", cwd=tmp_path)
    assert v.returncode == 0 and "Traceback" not in v.stderr, v.stderr
    r = aar("run", "priors/author.toml", "-n", 2000, "-o", "out", "-q", cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr


# --- 6. a point value cannot be truncated ---------------------------------------------------------


@pytest.mark.parametrize(
    "body, key",
    [
        ('[parameters]\ncontainment = { dist = "point", value = 0.5, lower = 0 }', "parameters.containment"),
        ('[parameters]\nhazard_growth = { dist = "point", value = 1, upper = 2 }', "parameters.hazard_growth"),
        (
            '[cruxes]\ncapability_needed = { dist = "point", value = 1, lower = 0, upper = 3 }',
            "cruxes.capability_needed",
        ),
        (
            '[parameters]\ncontainment = { dist = "mixture", weights = [0.5, 0.5], components = ['
            '{ dist = "point", value = 0.2, upper = 1 }, 0.5] }',
            "parameters.containment.components[0]",
        ),
    ],
)
def test_a_point_value_cannot_be_truncated(tmp_path, body, key):
    one_problem(on_author(tmp_path, body), key, "point value cannot be truncated", line=5)


def test_truncating_a_point_value_is_rejected_by_the_cli(tmp_path):
    path = on_author(tmp_path, '[parameters]\ncontainment = { dist = "point", value = 1, lower = 0 }')
    rejected_by_cli(path, "parameters.containment", tmp_path)


@pytest.mark.parametrize(
    "body",
    [
        '[parameters]\ncontainment = { dist = "mixture", weights = [0.5, 0.5], components = [0.2, 0.5], '
        "lower = 0.1, upper = 0.4 }",
        '[parameters]\ncontainment = { dist = "mixture", weights = [1], components = [0.3] }',
    ],
)
def test_mixtures_of_points_still_run(tmp_path, body):
    runs(load(on_author(tmp_path, body)))


# --- 7. the loop's survival: 0 · ∞ is not NaN ---------------------------------------------------------


def test_no_hazard_means_certain_survival_however_steep():
    c = np.array([1.0, 1e100, 5.0, 0.0, 2.0])
    beta = np.array([400.0, 1e100, 1e3, 1e100, -1e100])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_array_equal(survival(np.zeros(5), c, beta), np.ones(5))


def test_survival_on_the_log_scale():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        got = survival(
            np.array([0.2, 1e-300, 0.2, 1e-12]),
            np.array([2.0, 7.1e-8, 1.0, 1.0]),
            np.array([400.0, 1e10, 1e100, 30.000001]),
        )
    # e^{-λ·C·expm1(β·C)/(β·C)}, with the huge ones written out on the log scale
    want = [
        0.0,
        math.exp(-math.exp(math.log(1e-300 * 7.1e-8) + 710 - math.log(710.0))),
        0.0,
        math.exp(-1e-12 * math.expm1(30.000001) / 30.000001),
    ]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_survival_is_continuous_where_the_log_scale_takes_over():
    bc = 30.0 + np.array([-1e-9, 0.0, 1e-9])
    got = survival(np.full(3, 1e-13), np.ones(3), bc)
    np.testing.assert_allclose(got, np.exp(-1e-13 * np.expm1(bc) / bc), rtol=1e-13)


def test_steep_worlds_agree_in_pytensor_with_finite_gradients():
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    from model.core.backend import pytensor_ops

    n = 6
    worlds = {k: np.full(n, v) for k, v in MIDDLE_WORLD.items()}
    worlds["years_to_build"] = np.array([0.0, 0.0, 0.0, 3.0, 3.0, 3.0])  # derived and overridden T_b
    worlds["loop_hazard"] = np.array([0.0, 0.0, 0.2, 1e-30, 0.5, 0.0])
    worlds["hazard_growth"] = np.array([400.0, 1e50, 100.0, 400.0, 0.0, 1.2])
    symbols = {k: pt.dvector(k) for k in NAMES}
    graph = outcomes(symbols, 4.0, xp=pytensor_ops())
    args = [symbols[k] for k in NAMES]
    wrts = ("loop_hazard", "hazard_growth", "capability_needed")
    grads = [pytensor.grad(graph.success.sum(), symbols[wrt]) for wrt in wrts]
    # one function for the outcomes and the gradients: one compilation instead of four
    out = pytensor.function(args, [*graph, *grads], on_unused_input="ignore")(*[worlds[k] for k in NAMES])
    got, got_grads = out[: len(graph)], out[len(graph) :]
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        want = outcomes(worlds, 4.0)
    for name, a, b in zip(want._fields, got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    assert np.all(np.isfinite(want.success)) and want.p_align[0] > 0
    for wrt, g in zip(wrts, got_grads):
        assert np.all(np.isfinite(g)), (wrt, g)


@pytest.mark.parametrize("growth", [400, 1e4, 1e50, -1e50])
def test_no_loop_hazard_with_steep_growth_runs(tmp_path, growth):
    p = load(on_author(tmp_path, f"[parameters]\nloop_hazard = 0\nhazard_growth = {growth!r}"))
    runs(p)


def test_no_loop_hazard_with_steep_growth_runs_in_the_cli(tmp_path):
    path = on_author(tmp_path, "[parameters]\nloop_hazard = 0\nhazard_growth = 400")
    r = aar("run", path, "-n", 2000, "-o", tmp_path / "r", "-q", cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr


# --- 8. values the model cannot compute with ------------------------------------------------------

HOSTILE = {
    "real": [
        "1e308",
        "-1e308",
        '"-1e300 to 1e300"',
        '"-1 to 1e200"',
        '{ dist = "normal", mean = 0, sd = 1e300 }',
        '{ dist = "uniform", low = -1e308, high = 1e308 }',
        '{ dist = "lognormal", mu = 700, sigma = 1 }',
        '{ dist = "gamma", shape = 1e-5, scale = 1e300 }',
        "1e101",
    ],
    "nonnegative": [
        "1e308",
        '"1 to 1e200"',
        '{ dist = "lognormal", mu = 0, sigma = 1e10 }',
        '{ dist = "uniform", low = 0, high = 1e308 }',
        '{ dist = "gamma", shape = 1e-5, scale = 1 }',
        "0",
        "5e-324",
        '"1e-300 to 1e300"',
    ],
    "positive": [
        "1e308",
        "5e-324",
        '"1 to 1e200"',
        '{ dist = "lognormal", mu = 0, sigma = 1e10 }',
        '{ dist = "lognormal", mu = -700, sigma = 1 }',
        '{ dist = "gamma", shape = 1e-5, scale = 1 }',
        '{ dist = "pert", min = 1e-300, mode = 1e-300, max = 1e300 }',
        "1e-200",
    ],
    "probability": [
        "5e-324",
        "0.9999999999999999",
        '{ dist = "beta", alpha = 1e-5, beta = 1e-5 }',
        '{ dist = "logitnormal", ci90 = [1e-300, 0.9999999999999999] }',
        '{ dist = "beta", alpha = 1e10, beta = 1e-10 }',
        '{ dist = "beta", alpha = 1e300, beta = 1e300 }',
    ],
}
HOSTILE_CASES = [(v.name, value) for v in VARIABLES for value in HOSTILE[v.support]]


@pytest.mark.parametrize("name, value", HOSTILE_CASES, ids=[f"{n}={v[:24]}" for n, v in HOSTILE_CASES])
def test_hostile_values_either_run_or_are_rejected_at_their_key(tmp_path, name, value):
    table = "cruxes" if BY_NAME[name].crux else "parameters"
    path = on_author(tmp_path, f"[{table}]\n{name} = {value}")
    try:
        p = load(path)
    except PriorsError as err:
        found = err.problems
        assert [q.key for q in found] == [f"{table}.{name}"] and found[0].line == 5, [str(q) for q in found]
        return
    runs(p)


@pytest.mark.parametrize(
    "body, key, phrase",
    [
        ("[parameters]\nfield_years = 1e308", "parameters.field_years", f"within ±{VALUE_LIMIT:g}"),
        ('[parameters]\nfield_years = "1 to 1e200"', "parameters.field_years", "finite numbers"),
        (
            '[parameters]\nfield_years = { dist = "lognormal", mu = 1, sigma = 1e10 }',
            "parameters.field_years",
            "finite",
        ),
        (
            '[parameters]\nhazard_growth = { dist = "normal", mean = 0, sd = 1e300 }',
            "parameters.hazard_growth",
            "far tail",
        ),
        ("[parameters]\ntiming_noise = 1e-300", "parameters.timing_noise", "too close to 0"),
    ],
)
def test_values_too_large_for_the_model_are_rejected(tmp_path, body, key, phrase):
    one_problem(on_author(tmp_path, body), key, phrase, line=5)


def test_values_too_large_are_rejected_by_the_cli(tmp_path):
    rejected_by_cli(on_author(tmp_path, "[parameters]\nfield_years = 1e308"), "parameters.field_years", tmp_path)


def test_huge_integers_are_numbers_too_large(tmp_path):
    hexadecimal = "0x" + "f" * 5000
    one_problem(
        on_author(tmp_path, f"[parameters]\ncontainment = {hexadecimal}"), "parameters.containment", "finite number"
    )
    one_problem(
        on_author(tmp_path, f'[correlations]\n"containment, leakage" = {hexadecimal}'),
        'correlations."containment, leakage"',
        "finite number",
    )
    one_problem(
        on_author(tmp_path, "[parameters]\ncontainment = " + "1" * 5000),
        "parameters.containment",
        "too many digits",
        line=5,
    )


def test_the_trial_run_names_the_variable_that_breaks_the_model(tmp_path, monkeypatch):
    """A model that fails only in far tails: the trial finds the world and the variable."""
    import model.core.structure as structure

    real = structure.outcomes

    def fragile(w, horizon, xp=None):
        out = real(w, horizon)
        broken = np.asarray(w["years_to_agi"]) > 1e3
        return out._replace(success=np.where(broken, np.nan, out.success))

    monkeypatch.setattr(structure, "outcomes", fragile)
    path = on_author(tmp_path, '[parameters]\nyears_to_agi = { dist = "lognormal", ci90 = [4, 25] }')
    p = one_problem(path, "parameters.years_to_agi", "success is nan", "high value this prior can draw", line=5)
    assert "every other variable at its median" in p.message


def test_the_trial_run_names_variables_that_break_it_together(tmp_path, monkeypatch):
    import model.core.structure as structure

    real = structure.outcomes

    def fragile(w, horizon, xp=None):
        out = real(w, horizon)
        broken = (np.asarray(w["years_to_agi"]) > 60) & (np.asarray(w["field_years"]) > 100)
        return out._replace(x_risk=np.where(broken, 2.0, out.x_risk))

    monkeypatch.setattr(structure, "outcomes", fragile)
    found = problems(AUTHOR)
    assert [q.key for q in found] == ["parameters.field_years", "parameters.years_to_agi"]
    assert all("x_risk is 2" in q.message and q.line and q.file == AUTHOR for q in found)
    assert "and years_to_agi = " in found[0].message and "and field_years = " in found[1].message


def test_every_preset_passes_the_trial_quickly():
    import time

    for name in ("author", "openai", "pessimist"):
        load(ROOT / "priors" / f"{name}.toml")
        start = time.perf_counter()
        load(ROOT / "priors" / f"{name}.toml")
        assert time.perf_counter() - start < 0.2


NUMBERS = [
    "0",
    "-0.0",
    "1e308",
    "-1e308",
    "5e-324",
    "1e-300",
    "1e100",
    "1e101",
    "0.9999999999999999",
    "1.0000000000000002",
    "400",
    "-400",
    "1e15",
    "3",
    "0.5",
]


@pytest.mark.slow  # a whole CLI run end to end: the full suite (.ci/run) runs it
@settings(max_examples=80, deadline=None)
@given(st.data())
def test_any_number_anywhere_in_author_either_runs_or_is_rejected(tmp_path_factory, data):
    """Replace one number of author.toml with a hostile one: load rejects it, or the model runs."""
    import re

    text = AUTHOR.read_text()
    spots = list(re.finditer(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])", text))
    spot = data.draw(st.sampled_from(spots))
    number = data.draw(st.sampled_from(NUMBERS))
    path = tmp_path_factory.mktemp("mutant") / "author.toml"
    path.write_text(text[: spot.start()] + number + text[spot.end() :])
    try:
        p = load(path)
    except PriorsError as err:
        assert err.problems and all(q.file.name.endswith(".toml") for q in err.problems)
        return
    runs(p)


# --- 9. a beta fitted to too narrow an interval -------------------------------------------------------


@pytest.mark.parametrize(
    "ci", ["[0.5, 0.5000001]", "[1e-10, 2e-10]", "[0.001, 0.0011]", "[0.999, 0.9991]", "[0.3, 0.3001]"]
)
def test_a_too_narrow_beta_says_so(tmp_path, ci):
    path = on_author(tmp_path, f'[parameters]\nleakage = {{ dist = "beta", ci90 = {ci} }}')
    p = one_problem(path, "parameters.leakage", "too narrow for a beta", "point value", line=5)
    assert "Initial guess" not in p.message


def test_a_beta_no_interval_fits_says_so(tmp_path):
    path = on_author(tmp_path, '[parameters]\nleakage = { dist = "beta", ci90 = [1e-300, 0.999999] }')
    p = one_problem(path, "parameters.leakage", "beta", line=5)
    assert "Initial guess" not in p.message and "scipy" not in p.message.lower()


# --- 10. names and text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta, key, phrase",
    [
        ('name = "' + "n" * 201 + '"', "meta.name", "at most 200"),
        ('name = "two\\nlines"', "meta.name", "one line"),
        ('name = "red \\u001b[31m"', "meta.name", "control characters"),
        ('name = "tab\\there"', "meta.name", "control characters"),
        ('name = "line\\u2028separator"', "meta.name", "control characters"),
        ('description = "bell \\u0007"', "meta.description", "control characters"),
        ('description = "nul \\u0000"', "meta.description", "control characters"),
        ('description = "carriage \\r return"', "meta.description", "control characters"),
    ],
)
def test_names_and_descriptions_without_control_characters(tmp_path, meta, key, phrase):
    one_problem(on_author(tmp_path, "", meta=meta), key, phrase, line=3)


def test_sources_without_control_characters(tmp_path):
    path = on_author(
        tmp_path,
        '[parameters]\ncontainment = { dist = "beta", alpha = 3, beta = 3, source = "esc \\u001b]0;title\\u0007" }',
    )
    one_problem(path, "parameters.containment.source", "control characters", line=5)
    one_problem(on_author(tmp_path, '[calibration]\nsource = "x\\u0008"'), "calibration.source", "control")


def test_multi_line_text_and_long_unicode_names_are_fine(tmp_path):
    name = "ünï©ødé ★ 🙂 " * 10
    path = on_author(
        tmp_path,
        '[parameters]\ncontainment = { dist = "beta", alpha = 3, beta = 3, source = "one\\ttwo" }',
        meta=f'name = "{name}"\ndescription = """\nline one\n\tline two\r\nline three"""',
    )
    p = load(path)
    assert p.name == name and p.description == "line one\n\tline two\nline three"


def test_a_bad_name_is_rejected_by_the_cli(tmp_path):
    rejected_by_cli(on_author(tmp_path, "", meta='name = "a\\nb"'), "meta.name", tmp_path)


# --- 11. samples and seed -----------------------------------------------------------------------------


def test_samples_take_underscores_and_are_bounded(tmp_path):
    assert load(on_author(tmp_path, "[simulation]\nsamples = 1_000_000")).simulation.samples == 10**6
    assert load(on_author(tmp_path, "[simulation]\nsamples = 100_000_000_000")).simulation.samples == 10**11
    one_problem(
        on_author(tmp_path, "[simulation]\nsamples = 100_000_000_001"),
        "simulation.samples",
        "at most 100,000,000,000 worlds",
        line=5,
    )
    one_problem(
        on_author(tmp_path, "[simulation]\nsamples = 0x" + "f" * 3000),
        "simulation.samples",
        "at most 100,000,000,000 worlds",
    )


@pytest.mark.parametrize(
    "seed, ok",
    [
        ("0", True),
        (str(2**63 - 1), True),
        (str(2**63), False),
        ("-1", False),
        ("1e3", False),
        ("0x" + "f" * 5000, False),
        ("true", False),
    ],
)
def test_seeds(tmp_path, seed, ok):
    path = on_author(tmp_path, f"[simulation]\nseed = {seed}")
    if ok:
        assert load(path).simulation.seed == int(seed)
    else:
        one_problem(path, "simulation.seed", "", line=5)


# --- never a traceback --------------------------------------------------------------------------------

TOML_BITS = [
    "[meta]",
    "[parameters]",
    "[cruxes]",
    "[[x]]",
    "base = ",
    '"author"',
    "'a.toml'",
    "=",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\n",
    " ",
    '"""',
    "'''",
    "#",
    ".",
    "containment",
    "dist",
    '"point"',
    "value",
    "1e308",
    "-",
    "0x",
    "\\u0000",
    "\\",
    "\ufeff",
    "\x00",
    "\r",
    "nan",
    "inf",
    "true",
    "1979-05-27",
    "_",
    "1",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOML_BITS), max_size=40))
def test_garbage_never_raises_anything_but_priors_error(tmp_path_factory, bits):
    path = tmp_path_factory.mktemp("garbage") / "g.toml"
    path.write_text("".join(bits), encoding="utf-8")
    try:
        load(path)
    except PriorsError as err:
        assert all(isinstance(q.message, str) and "\n" not in q.message for q in err.problems)
