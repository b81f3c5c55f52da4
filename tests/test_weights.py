"""Weighted quantiles: numpy's inverted-CDF quantile of the sample in which each value appears
in proportion to its weight, whatever the weights sum to."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.core.weights import weighted_quantile

PROPERTY = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=40)
levels = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5)


def test_median_of_three_with_unit_weights_is_the_middle_one():
    x = np.array([1.0, 2.0, 3.0])
    assert weighted_quantile(x, np.ones(3), [0.5])[0] == 2.0
    assert weighted_quantile(x, np.full(3, 7.0), [0.5])[0] == 2.0  # the scale of w does not matter
    assert weighted_quantile(x, np.array([1.0, 1.0, 4.0]), [0.5])[0] == 3.0
    assert weighted_quantile(x, np.array([0.0, 1.0, 1.0]), [0.0])[0] == 2.0  # zero weight: absent


@PROPERTY
@given(values, levels, st.sampled_from([2.0**-20, 0.25, 1.0, 8.0, 2.0**30]))
def test_equal_weights_give_numpys_inverted_cdf(xs, qs, scale):
    # powers of two keep the cumulative weights exact: at a level exactly on a step of the
    # CDF (q·n an integer) any other scale may round either way, in numpy's n·q as in W_k
    x = np.array(xs)
    got = weighted_quantile(x, np.full(x.size, scale), qs)
    np.testing.assert_array_equal(got, np.quantile(x, qs, method="inverted_cdf"))


@PROPERTY
@given(
    st.lists(st.tuples(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 6)), min_size=1, max_size=30).filter(
        lambda pairs: any(k for _, k in pairs)
    ),
    levels,
)
def test_integer_weights_equal_repeating_each_value(pairs, qs):
    x = np.array([v for v, _ in pairs])
    k = np.array([c for _, c in pairs])
    got = weighted_quantile(x, k.astype(float), qs)
    np.testing.assert_array_equal(got, np.quantile(np.repeat(x, k), qs, method="inverted_cdf"))


def test_negative_or_all_zero_weights_are_refused():
    with pytest.raises(ValueError, match="weights"):
        weighted_quantile(np.array([1.0, 2.0]), np.array([1.0, -1.0]), [0.5])
    with pytest.raises(ValueError, match="weights"):
        weighted_quantile(np.array([1.0, 2.0]), np.zeros(2), [0.5])
