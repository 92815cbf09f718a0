import pytest

from neurodata import ParamError
from neurodata.params import Boolean, Interval, ListOf, Nullable, Options, Text, check_params, merge_profile

SPEC = {
    "N": Interval(int, 1, None),
    "T": Interval(float, 0, None, closed="neither"),
    "we": ListOf(Interval(float, 0, None), increasing=True),
    "mode": Options(["weight", "probabilities"], default="weight"),
    "flag": Boolean(default=False),
    "name": Text(r"[a-z]+", default="x"),
    "limit": Nullable(Interval(int, 0, None), default=None),
}


def test_valid_params_are_normalised_and_defaults_filled():
    out = check_params({"N": 3.0, "T": 1, "we": [0, 2.5]}, SPEC, stage="s")
    assert out == {"N": 3, "T": 1.0, "we": [0.0, 2.5], "mode": "weight", "flag": False, "name": "x", "limit": None}
    assert isinstance(out["N"], int)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"N": 0, "T": 1, "we": [1]}, r"The 'N' parameter of stage s must be an int in the range \[1, inf\)\. Got 0 instead\."),
        ({"N": 1.5, "T": 1, "we": [1]}, r"'N' parameter .* Got 1\.5 instead"),
        ({"N": 1, "T": 0, "we": [1]}, r"'T' parameter of stage s must be a float in the range \(0, inf\)\. Got 0"),
        ({"N": 1, "T": 1, "we": []}, r"'we' parameter .* at least 1 items.* Got \[\] instead"),
        ({"N": 1, "T": 1, "we": [-1.0]}, r"'we' parameter .* Got \[-1\.0\] instead"),
        ({"N": 1, "T": 1, "we": [2, 1]}, r"increasing"),
        ({"N": 1, "T": 1, "we": [1], "mode": "x"}, r"one of \['weight', 'probabilities'\]"),
        ({"N": 1, "T": 1, "we": [1], "flag": 1}, r"must be a bool"),
        ({"N": True, "T": 1, "we": [1]}, r"'N' parameter"),
        ({"N": 1, "T": float("inf"), "we": [1]}, r"'T' parameter"),
        ({"N": 1, "T": 1, "we": [1], "bogus": 3}, r"Unknown parameter\(s\) \['bogus'\] for stage s\. Valid parameters: \["),
        ({"T": 1, "we": [1]}, r"Missing parameter 'N' for stage s \(expected an int"),
    ],
)
def test_bad_params_are_rejected_with_a_message_naming_key_and_value(params, message):
    with pytest.raises(ParamError, match=message):
        check_params(params, SPEC, stage="s")


def test_merge_profile_merges_mappings_and_replaces_lists():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    assert merge_profile(base, {"a": {"y": [3]}}) == {"a": {"x": 1, "y": [3]}, "b": 2}
    assert base["a"]["y"] == [1, 2]
