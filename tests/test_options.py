import pytest

import neurodata
from neurodata import _options


def test_set_options_is_a_context_manager_and_restores(monkeypatch):
    monkeypatch.delenv("NEURODATA_SCHEDULER", raising=False)
    assert neurodata.get_options()["scheduler"] == "auto"
    with neurodata.set_options(scheduler="synchronous"):
        assert neurodata.get_options()["scheduler"] == "synchronous"
    assert neurodata.get_options()["scheduler"] == "auto"


def test_environment_variables_give_the_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("NEURODATA_SCHEDULER", "tcp://127.0.0.1:8786")
    monkeypatch.setenv("NEURODATA_DATA_DIR", str(tmp_path))
    opts = neurodata.get_options()
    assert opts["scheduler"] == "tcp://127.0.0.1:8786"
    assert _options.data_dir() == tmp_path


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scheduler": "fast"}, r"option 'scheduler' given an invalid value: 'fast'\. Expected 'auto', 'local', 'synchronous' or a scheduler address"),
        ({"progress": "yes"}, r"option 'progress' given an invalid value: 'yes'"),
        ({"colour": 1}, r"argument name 'colour' is not in the set of valid options"),
    ],
)
def test_bad_options_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        neurodata.set_options(**kwargs)


def test_bad_environment_value_is_reported(monkeypatch):
    monkeypatch.setenv("NEURODATA_SCHEDULER", "fast")
    with pytest.raises(ValueError, match="NEURODATA_SCHEDULER"):
        neurodata.get_options()


def test_import_is_cheap_and_lazy():
    import subprocess
    import sys

    code = "import sys, neurodata; print(int(any(m in sys.modules for m in ('torch', 'nest', 'dask.distributed', 'numba'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "0"
