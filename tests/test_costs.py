"""The cost model's home (sigcorr._costs), its calibration and choose_conv_method(measure=True)."""

import dataclasses
import json
import warnings

import numpy as np
import pytest

import sigcorr
from sigcorr import _costs, calibrate, cli


@pytest.fixture(autouse=True)
def _fresh_model(monkeypatch, tmp_path):
    # every test reads its own cost file, and leaves no model loaded behind
    monkeypatch.setenv("SIGCORR_COSTS", str(tmp_path / "costs.json"))
    _costs._current.clear()
    yield
    _costs._current.clear()


def _write_entry(path, values, stamp=None):
    stamp = _costs.machine() if stamp is None else stamp
    data = {"format": _costs.FORMAT,
            "entries": {_costs.machine_key(stamp): {**stamp, "costs": values}}}
    path.write_text(json.dumps(data))


def test_defaults_without_a_file(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _costs.get() is _costs.DEFAULTS
    assert _costs.cache_path() == str(tmp_path / "costs.json")
    # every price is a positive number, per itemsize where it depends on it
    for name in _costs.CALIBRATED:
        v = getattr(_costs.DEFAULTS, name)
        for x in (v.values() if isinstance(v, dict) else [v]):
            assert x > 0


def test_cache_path_env(monkeypatch, tmp_path):
    monkeypatch.delenv("SIGCORR_COSTS")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _costs.cache_path() == str(tmp_path / "xdg" / "sigcorr" / "costs.json")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _costs.cache_path() == str(tmp_path / "home" / ".cache" / "sigcorr" / "costs.json")


def test_env_var_file_is_loaded_and_used(tmp_path):
    # a model whose direct path costs 1000x: the docstring's direct case goes to the FFT
    _write_entry(tmp_path / "costs.json", {"direct_ns": {"4": 80.0, "8": 150.0}, "fft_ns": 0.9})
    assert _costs.get().direct_ns == {4: 80.0, 8: 150.0}
    assert _costs.get().fft_call_ns == _costs.DEFAULTS.fft_call_ns  # not in the file: default
    assert sigcorr.choose_conv_method(np.ones(100_000), np.ones(8)) == "fft"
    with _costs.pinned():
        assert sigcorr.choose_conv_method(np.ones(100_000), np.ones(8)) == "direct"
    assert _costs.get().direct_ns[8] == 150.0  # restored after the pin


def test_other_machine_or_version_is_ignored(tmp_path):
    other = dict(_costs.machine(), sigcorr="0.0.0-other")
    _write_entry(tmp_path / "costs.json", {"fft_ns": 123.0}, stamp=other)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _costs.get() is _costs.DEFAULTS


@pytest.mark.parametrize("text", [
    "{not json",
    "[1, 2]",
    '{"format": 1, "entries": 3}',
    "negative price",
    "missing itemsize",
])
def test_corrupt_file_falls_back_with_one_warning(tmp_path, text):
    path = tmp_path / "costs.json"
    if text == "negative price":
        _write_entry(path, {"fft_ns": -1.0})
    elif text == "missing itemsize":
        _write_entry(path, {"direct_ns": {"4": 0.1}})
    else:
        path.write_text(text)
    with pytest.warns(RuntimeWarning, match="cost model"):
        assert _costs.get() is _costs.DEFAULTS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _costs.get() is _costs.DEFAULTS  # read once: no second warning
        assert sigcorr.choose_conv_method(np.ones(100), np.ones(3)) == "direct"  # calls still work


def test_unreadable_file_is_silent(tmp_path):
    (tmp_path / "costs.json").mkdir()  # a folder where the file should be
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _costs.get() is _costs.DEFAULTS


def test_calibrate_quick_writes_a_file_that_is_used(tmp_path, capsys):
    path = tmp_path / "costs.json"
    other = dict(_costs.machine(), cpu="another CPU")
    _write_entry(path, {"fft_ns": 5.0}, stamp=other)
    assert cli.main(["calibrate", "--quick"]) == 0
    out = capsys.readouterr().out
    assert str(path) in out and "direct_ns[8]" in out  # where, and what changed
    data = json.loads(path.read_text())
    assert _costs.machine_key(other) in data["entries"]  # other machines' entries kept
    entry = data["entries"][_costs.machine_key()]
    assert entry["cores"] >= 1 and entry["sigcorr"] == sigcorr.__version__
    model = _costs.get()  # the calibrated prices are what sigcorr now uses
    assert model is not _costs.DEFAULTS
    for name in _costs.CALIBRATED:
        v = getattr(model, name)
        want = entry["costs"][name]
        if isinstance(v, dict):
            assert v == {int(k): x for k, x in want.items()}
            assert all(x > 0 for x in v.values())
        else:
            assert v == want > 0
    assert model.tail_mac == _costs.DEFAULTS.tail_mac  # shapes are not calibrated
    r = sigcorr.correlate(np.arange(10.0), np.ones(3))
    np.testing.assert_allclose(r, np.convolve(np.arange(10.0), np.ones(3)))


def test_calibrate_module_json_and_output(tmp_path, capsys):
    target = tmp_path / "sub" / "mine.json"
    assert calibrate.main(["--quick", "--json", "--output", str(target)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["path"] == str(target) and target.exists()
    assert set(info["costs"]) == set(_costs.CALIBRATED)
    assert _costs.get() is _costs.DEFAULTS  # another file than the cache: nothing reloaded
    # a corrupt target is replaced
    target.write_text("garbage")
    with pytest.warns(RuntimeWarning):
        calibrate.calibrate(quick=True, path=str(target), out=None)
    assert _costs.load(str(target)) != _costs.DEFAULTS


def test_measure_returns_method_and_times(rng):
    x, k = rng.standard_normal((2, 300))
    method, times = sigcorr.choose_conv_method(x, k, "same", measure=True)
    assert method in ("direct", "fft")
    assert set(times) == {"direct", "fft"}
    assert all(isinstance(t, float) and 0 < t < 1 for t in times.values())
    assert method == min(times, key=times.get)
    assert sigcorr.choose_conv_method(x, k, measure=False) in ("direct", "fft")
    with pytest.raises(ValueError, match="Acceptable mode flags"):
        sigcorr.choose_conv_method(x, k, "bogus", measure=True)


def test_model_fields_documented():
    # every field of the model has its comment in _costs.py: what it prices or shapes
    import inspect

    src = inspect.getsource(_costs.Costs)
    lines = src.splitlines()
    for field in dataclasses.fields(_costs.Costs):
        i = next(j for j, line in enumerate(lines) if line.strip().startswith(f"{field.name}:"))
        assert lines[i - 1].strip().startswith("#"), field.name
