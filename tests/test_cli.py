"""Tests of the ``sigcorr`` command.

A few true subprocess runs (``python -m sigcorr.cli``) check the entry point,
exit codes and the absence of tracebacks; the detailed cases call
``main([...])`` in-process, which is the same code without the start-up cost.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sigcorr import cli
from sigcorr.cli import main, read_image, read_series
from sigcorr.cli._io import fmt

PIL_Image = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sigcorr" / "data"


def run(*args, cwd=None):
    """Run ``python -m sigcorr.cli ARGS``; returns (exit code, stdout, stderr)."""
    env_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "sigcorr.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": env_path},
    )
    return proc.returncode, proc.stdout, proc.stderr


def call(capsys, *args):
    """Run ``main(ARGS)`` in-process; returns (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def photo():
    return np.asarray(PIL_Image.open(DATA / "astronaut.png"))


def save_png(path, arr):
    PIL_Image.fromarray(np.asarray(arr, dtype=np.uint8)).save(path)
    return str(path)


def sine_csv(path, period=25.0, n=400, header=True, sep=",", seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = np.sin(2 * np.pi * t / period) + 0.2 * rng.standard_normal(n)
    noise = rng.standard_normal(n)
    with open(path, "w") as f:
        if header:
            f.write(sep.join(["t", "signal", "label", "noise"]) + "\n")
        for i in range(n):
            f.write(sep.join([str(i), f"{y[i]:.6f}", "abc", f"{noise[i]:.6f}"]) + "\n")
    return str(path)


def assert_clean_error(code, err, fragment=None):
    assert code != 0
    assert "Traceback" not in err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert lines, "no message on stderr"
    assert "error" in lines[-1]
    if fragment is not None:
        assert fragment in err, err


_RED = (255, 0, 0)           # the best match's frame
_SHADE = (255, 223, 195)     # matplotlib's C1 (orange) at alpha 0.25 over white: the shaded cycle
_C3 = (214, 39, 40)          # matplotlib's C3: the period's (or delay's) line


def _png(path):
    return np.asarray(PIL_Image.open(path).convert("RGB")).astype(int)


def _near(rgb, colour, tol):
    return (np.abs(rgb - np.array(colour)) <= tol).all(axis=-1)


def _extent(mask, axis, frac=0.5):
    """First and last index along ``axis`` of the lines (rows for axis 0,
    columns for axis 1) holding at least ``frac`` of the most any line of
    ``mask`` holds: the long strokes, not the glyphs of a label."""
    counts = mask.sum(axis=1 - axis)
    idx = np.flatnonzero(counts >= frac * counts.max())
    return idx[0], idx[-1]


# ---------------------------------------------------------------------------
# subprocess: the real entry point
# ---------------------------------------------------------------------------


def test_demo_subprocess_json_and_plot(tmp_path):
    out_png = tmp_path / "demo.png"
    code, out, err = run("demo", "--json", "--plot", str(out_png), cwd=tmp_path)
    assert code == 0, err
    assert "Traceback" not in err
    record = json.loads(out)
    assert record["matches"][0]["position"] == list(cli.SAMPLE_TEMPLATE_POSITION)
    assert record["matches"][0]["score"] > 0.99
    # yearly sunspot numbers: the solar cycle of about 11 years
    assert 9 <= record["period"] <= 12
    assert 0.3 < record["strength"] <= 1
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # both results drawn: the best match's red frame, one shaded cycle, the period's line
    rgb = _png(out_png)
    for colour, tol, what in [(_RED, 50, "match frame"), (_SHADE, 14, "shaded cycle"), (_C3, 30, "period line")]:
        assert _near(rgb, colour, tol).sum() > 100, what


def test_match_and_period_on_user_files(tmp_path, capsys):
    # in-process: the real process (console entry, exit codes, no traceback)
    # is checked once, by the demo and bad-invocation subprocess tests
    image = photo()
    r, c, h, w = 150, 60, 36, 40
    img = save_png(tmp_path / "photo.png", image)
    tpl = save_png(tmp_path / "crop.png", image[r : r + h, c : c + w])
    code, out, err = call(capsys, "match", img, tpl, "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["matches"][0]["position"] == [r, c]
    assert record["matches"][0]["score"] == pytest.approx(1.0, abs=1e-3)

    csv_path = sine_csv(tmp_path / "series.csv", period=25.0)
    code, out, err = call(capsys, "period", csv_path, "--column", "signal", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["period"] == pytest.approx(25.0, abs=1.0)
    assert 0.5 < record["strength"] <= 1


def test_bad_invocations_subprocess(tmp_path, capsys):
    code, out, err = run("frobnicate", cwd=tmp_path)
    assert code == 2
    assert_clean_error(code, err, "invalid choice")
    code, out, err = call(capsys, "match", str(tmp_path / "nope.png"), str(tmp_path / "nope2.png"))
    assert code == 1
    assert_clean_error(code, err, "no such file")
    assert out == ""


# ---------------------------------------------------------------------------
# in-process: match
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "npy", "tif", "jpg"])
def test_match_finds_crop_in_each_format(tmp_path, capsys, fmt):
    image = photo()
    r, c, h, w = 120, 20, 40, 32
    if fmt == "npy":
        np.save(tmp_path / "img.npy", image.astype(np.float32))
        np.save(tmp_path / "tpl.npy", image[r : r + h, c : c + w])
        img, tpl = tmp_path / "img.npy", tmp_path / "tpl.npy"
    else:
        img, tpl = tmp_path / f"img.{fmt}", tmp_path / f"tpl.{fmt}"
        PIL_Image.fromarray(image).save(img, quality=95) if fmt == "jpg" else PIL_Image.fromarray(image).save(img)
        # the template is cut from the image as the file stores it (JPEG is lossy)
        stored = read_image(img)
        PIL_Image.fromarray(stored[r : r + h, c : c + w].astype(np.uint8)).save(tpl)
    code, out, err = call(capsys, "match", str(img), str(tpl), "--json")
    assert code == 0, err
    record = json.loads(out)
    assert len(record["matches"]) == 1
    assert record["matches"][0]["position"] == [r, c]
    assert record["matches"][0]["score"] > 0.98


def test_read_image_color_and_16bit(tmp_path):
    rgb = np.zeros((8, 9, 3), np.uint8)
    rgb[..., 0] = 255
    PIL_Image.fromarray(rgb).save(tmp_path / "rgb.png")
    gray = read_image(tmp_path / "rgb.png")
    assert gray.shape == (8, 9) and gray.dtype == np.float64
    assert np.allclose(gray, 76)  # ITU-R 601-2 luma of pure red, as Pillow's "L"
    deep = (np.arange(8 * 9, dtype=np.uint16).reshape(8, 9) * 900)
    PIL_Image.fromarray(deep).save(tmp_path / "deep.tif")
    np.testing.assert_array_equal(read_image(tmp_path / "deep.tif"), deep)


def test_match_table_json_several_matches_and_plot(tmp_path, capsys):
    code, out, err = call(capsys, "match")  # embedded sample data
    assert code == 0, err
    assert "rank" in out and "score" in out and "sample data" in out
    row = out.strip().splitlines()[-1].split()
    assert [int(row[1]), int(row[2])] == list(cli.SAMPLE_TEMPLATE_POSITION)

    png = tmp_path / "m.png"
    code, out, err = call(capsys, "match", "--max-matches", "3", "--json", "--plot", str(png))
    assert code == 0, err
    matches = json.loads(out)["matches"]
    assert len(matches) == 3
    scores = [m["score"] for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert matches[0]["position"] == list(cli.SAMPLE_TEMPLATE_POSITION)
    positions = np.array([m["position"] for m in matches])
    # non-maximum suppression: distinct places
    assert len({tuple(p) for p in positions}) == 3
    rgb = _png(png)  # the best match framed in red, the two others in orange
    assert _near(rgb, _RED, 50).sum() > 100 and _near(rgb, (255, 165, 0), 40).sum() > 200


def test_match_sqdiff_and_threshold(capsys):
    code, out, err = call(capsys, "match", "--method", "sqdiff", "--json")
    assert code == 0, err
    best = json.loads(out)["matches"][0]
    assert best["position"] == list(cli.SAMPLE_TEMPLATE_POSITION)
    assert best["score"] == pytest.approx(0.0, abs=1e-3 * 255**2)
    # a threshold nothing reaches: no matches, still success
    code, out, err = call(capsys, "match", "--max-matches", "5", "--threshold", "1.5", "--json")
    assert code == 0, err
    assert json.loads(out) == {"matches": []}


# ---------------------------------------------------------------------------
# in-process: period
# ---------------------------------------------------------------------------


def test_period_table_lists_samples_fs_units_and_candidates(tmp_path, capsys):
    csv_path = sine_csv(tmp_path / "s.csv", period=25.0)
    code, out, err = call(capsys, "period", csv_path, "--column", "signal", "--fs", "10")
    assert code == 0, err
    assert "'signal'" in out and "fs = 10" in out
    chosen = next(ln for ln in out.splitlines() if ln.strip().startswith("chosen")).split()
    assert float(chosen[1]) == pytest.approx(25, abs=1)  # samples
    assert float(chosen[2]) == pytest.approx(2.5, abs=0.1)  # 1/fs units
    # candidates are distinct cycles: a single sine's multiples (50, 75, ...) are not listed
    rows = [ln.split() for ln in out.splitlines()[2:] if ln.strip()]
    assert all(abs(float(r[0]) / 25 - round(float(r[0]) / 25)) > 0.05 for r in rows[1:]), out


def test_period_json_fs_npy_and_no_header(tmp_path, capsys):
    t = np.arange(600)
    x = np.cos(2 * np.pi * t / 40.0)
    np.save(tmp_path / "x.npy", x)
    code, out, err = call(capsys, "period", str(tmp_path / "x.npy"), "--fs", "4", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["period"] == pytest.approx(10.0, abs=0.25)  # 40 samples at 4 Hz
    assert record["strength"] > 0.8

    np.savetxt(tmp_path / "x.csv", np.c_[t, x], delimiter=";")
    code, out, err = call(capsys, "period", str(tmp_path / "x.csv"), "--json")
    assert code == 0, err
    assert json.loads(out)["period"] == pytest.approx(40.0, abs=1.0)


def test_period_no_periodicity_is_null(tmp_path, capsys):
    np.save(tmp_path / "line.npy", np.arange(200.0))
    code, out, err = call(capsys, "period", str(tmp_path / "line.npy"), "--max-period", "5", "--json")
    assert code == 0, err
    assert "NaN" not in out
    record = json.loads(out)
    assert set(record) == {"period", "strength"}
    if record["period"] is None:
        code, out, err = call(capsys, "period", str(tmp_path / "line.npy"), "--max-period", "5")
        assert "no periodicity" in out


# --- plots: what is drawn where ------------------------------------------------


def test_match_plot_marks_the_best_match_where_it_is(tmp_path, capsys):
    # a mid-grey noise image with a template cut from it at a known place;
    # the plot's left panel shows the image with the best match framed in red
    rng = np.random.default_rng(5)
    H, W, (r, c), (h, w) = 180, 240, (120, 40), (30, 36)
    img = rng.integers(60, 200, (H, W)).astype(np.uint8)
    ip, tp = save_png(tmp_path / "i.png", img), save_png(tmp_path / "t.png", img[r:r + h, c:c + w])
    png = tmp_path / "m.png"
    code, out, err = call(capsys, "match", ip, tp, "--json", "--plot", str(png))
    assert code == 0, err
    assert json.loads(out)["matches"][0]["position"] == [r, c]
    rgb = _png(png)
    left = rgb[:, :rgb.shape[1] // 2]
    grey = (left[..., 0] == left[..., 1]) & (left[..., 1] == left[..., 2]) & (left[..., 0] > 40) & (left[..., 0] < 215)
    y0, y1 = _extent(grey, 0)
    x0, x1 = _extent(grey, 1)
    sy, sx = (y1 - y0 + 1) / H, (x1 - x0 + 1) / W  # screen pixels per image pixel
    red = (left[..., 0] > 200) & (left[..., 1] < 60) & (left[..., 2] < 60)
    assert red.sum() > 2 * (h * sy + w * sx)  # a frame, not a speck
    top, bottom = _extent(red, 0)
    lft, rgt = _extent(red, 1)
    tol = 2 + max(sy, sx)  # the frame's line width and a pixel of the image
    assert abs(top - (y0 + r * sy)) <= tol and abs(bottom - (y0 + (r + h) * sy)) <= tol, (top, bottom, y0, sy)
    assert abs(lft - (x0 + c * sx)) <= tol and abs(rgt - (x0 + (c + w) * sx)) <= tol, (lft, rgt, x0, sx)


def test_period_plot_marks_one_cycle_and_the_period_lag(tmp_path, capsys):
    # a sine of period 50 over 400 samples: the top panel shades one cycle
    # (a span 50 / 399 of the series' width), the bottom panel marks lag 50
    # on the autocorrelation (shown up to lag 399 / 2) with a red line
    path = sine_csv(tmp_path / "s.csv", period=50.0, n=400)
    png = tmp_path / "p.png"
    code, out, err = call(capsys, "period", path, "--column", "signal", "--json", "--plot", str(png))
    assert code == 0, err
    period = json.loads(out)["period"]
    assert period == pytest.approx(50.0, abs=0.5)
    rgb = _png(png)
    half = rgb.shape[0] // 2
    top, bottom = rgb[:half], rgb[half:]
    blue = (31, 119, 180)  # matplotlib's C0: the series, then the autocorrelation
    series = np.flatnonzero(_near(top, blue, 40).any(axis=0))
    shade = _near(top, _SHADE, 14)
    s0, s1 = _extent(shade, 1)
    width = (s1 - s0 + 1) / (series[-1] - series[0] + 1)
    assert width == pytest.approx(period / 399, abs=3 / (series[-1] - series[0])), (s0, s1, series[[0, -1]])
    acf = np.flatnonzero(_near(bottom, blue, 40).any(axis=0))  # clipped to the axes: lags 0 .. 399 / 2
    line = _near(bottom, _C3, 30)
    l0, l1 = _extent(line, 1, frac=0.8)
    where = ((l0 + l1) / 2 - acf[0]) / (acf[-1] - acf[0])
    assert where == pytest.approx(period / (399 / 2), abs=3 / (acf[-1] - acf[0])), (l0, l1, acf[[0, -1]])


def test_numbers_in_tables_and_plots_keep_their_sign():
    assert fmt(-0.0366, 4) == "-0.0366"
    assert fmt(-3.5) == "-3.5"
    assert fmt(-0.00001, 4) == "0"  # rounds to zero: no "-0"
    assert fmt(0.5) == "0.5" and fmt(-10.0) == "-10" and fmt(0.0) == "0"


def test_period_plot_and_sample(tmp_path, capsys):
    png = tmp_path / "p.png"
    code, out, err = call(capsys, "period", "--plot", str(png))
    assert code == 0, err
    assert "sunspots" in out and "sample data" in out
    rgb = _png(png)  # one cycle shaded, the period's line on the autocorrelation
    assert _near(rgb, _SHADE, 14).sum() > 100 and _near(rgb, _C3, 30).sum() > 100


def test_read_series_csv_variants(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("# comment\ntime, value ,label\n0, 1.5, x\n1,,y\n2, nan, z\n3, 4, w\n")
    x, label = read_series(p)
    np.testing.assert_array_equal(x, [1.5, np.nan, np.nan, 4.0])
    assert "value" in label
    x, _ = read_series(p, "time")
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    x, _ = read_series(p, "0")  # a 0-based index also works
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    p.write_text("1\t2\n3\t4\n5\t6\n")  # tabs, no header
    x, label = read_series(p)
    np.testing.assert_array_equal(x, [2, 4, 6])
    p.write_text("7\n8\n9\n")  # one column
    np.testing.assert_array_equal(read_series(p)[0], [7, 8, 9])


# ---------------------------------------------------------------------------
# in-process: errors
# ---------------------------------------------------------------------------


def test_bad_inputs_exit_1_with_one_line(tmp_path, capsys):
    image = photo()
    img = save_png(tmp_path / "img.png", image[:50, :50])
    big = save_png(tmp_path / "big.png", image[:60, :40])
    (tmp_path / "fake.png").write_text("not an image at all")
    (tmp_path / "words.csv").write_text("a,b\nx,y\nz,w\n")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    np.save(tmp_path / "cube.npy", np.zeros((3, 4, 5)))
    np.save(tmp_path / "hyper.npy", np.zeros((2, 3, 4, 5)))
    cases = [
        (["match", str(tmp_path / "missing.png"), img], "no such file"),
        (["match", str(tmp_path / "fake.png"), img], "cannot read as an image"),
        (["match", img, big], "larger than the image"),
        (["match", img], "both IMAGE and TEMPLATE"),
        (["match", str(tmp_path / "cube.npy"), img], "3-D template"),  # a volume
        (["match", str(tmp_path / "hyper.npy"), img], "2-D"),
        (["period", str(tmp_path / "missing.csv")], "no such file"),
        (["period", str(tmp_path / "words.csv")], "no numeric column"),
        (["period", str(tmp_path / "bad.csv"), "--column", "b"], "non-numeric value 'oops'"),
        (["period", str(tmp_path / "bad.csv"), "--column", "zzz"], "no column 'zzz'"),
        (["period", str(tmp_path / "cube.npy")], "1-D"),
        (["period", str(tmp_path)], "not a regular file"),
        (["period", "--plot", str(tmp_path / "no" / "dir" / "p.png")], "cannot write the plot"),
    ]
    for argv, fragment in cases:
        code, out, err = call(capsys, *argv)
        assert code == 1, (argv, err)
        assert_clean_error(code, err, fragment)
        assert len(err.strip().splitlines()) == 1, (argv, err)


def test_usage_errors_exit_2(capsys):
    for argv in (["frobnicate"], [], ["match", "--method", "bogus"], ["period", "--fs", "-1"],
                 ["match", "--max-matches", "0"], ["demo", "extra"]):
        code, out, err = call(capsys, *argv)
        assert code == 2, argv
        assert_clean_error(code, err)


@pytest.mark.parametrize("command", [[], ["match"], ["period"], ["demo"]])
def test_help(capsys, command):
    code, out, err = call(capsys, *command, "--help")
    assert code == 0
    assert "usage: sigcorr" in out
    for flag in {"match": ["--method", "--threshold", "--max-matches", "--pyramid", "--json", "--plot"],
                 "period": ["--column", "--fs", "--min-period", "--max-period", "--all", "--json", "--plot"],
                 "demo": ["--plot"]}.get(command[0] if command else "", ["match", "period", "demo"]):
        assert flag in out


def test_missing_extras_name_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `import PIL` fail
    code, out, err = call(capsys, "match")
    assert_clean_error(code, err, 'pip install "sigcorr[cli]"')
    monkeypatch.delitem(sys.modules, "PIL")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    np.save(tmp_path / "x.npy", np.sin(np.arange(100.0)))
    code, out, err = call(capsys, "period", str(tmp_path / "x.npy"), "--plot", str(tmp_path / "p.png"))
    assert_clean_error(code, err, 'pip install "sigcorr[cli]"')
    assert not (tmp_path / "p.png").exists()


def test_sample_data_is_small_and_documented():
    files = [p for p in DATA.iterdir() if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 300_000
    readme = (DATA / "README.md").read_text()
    for p in files:
        if p.name != "README.md":
            assert p.name in readme
    image, template = read_image(cli.SAMPLE_IMAGE), read_image(cli.SAMPLE_TEMPLATE)
    r, c = cli.SAMPLE_TEMPLATE_POSITION
    h, w = template.shape
    np.testing.assert_array_equal(image[r : r + h, c : c + w], template)


def test_demo_text(capsys):
    code, out, err = call(capsys, "demo")
    assert code == 0, err
    assert "found at (38, 92): correct" in out
    assert "sunspots" in out and "chosen" in out


def test_period_default_min_period_is_two_samples_at_any_fs(tmp_path, capsys):
    np.save(tmp_path / "fast.npy", np.sin(2 * np.pi * np.arange(400) / 5.0))
    code, out, err = call(capsys, "period", str(tmp_path / "fast.npy"), "--fs", "10", "--json")
    assert code == 0, err
    assert json.loads(out)["period"] == pytest.approx(0.5, abs=0.02)  # 5 samples at 10 Hz


# ---------------------------------------------------------------------------
# delay
# ---------------------------------------------------------------------------


def _delay_pair(d=7.25, n=3000):
    rng = np.random.default_rng(40)
    f = np.fft.rfftfreq(2 * n)
    spec = np.fft.rfft(rng.standard_normal(2 * n))
    spec[f > 0.3] = 0
    y = np.fft.irfft(spec)[:n]
    x = np.fft.irfft(spec * np.exp(-2j * np.pi * f * d))[:n]
    return x, y


def test_delay_two_files_json(tmp_path, capsys):
    x, y = _delay_pair()
    np.save(tmp_path / "a.npy", x)
    np.savetxt(tmp_path / "b.csv", y, delimiter=",", header="mic", comments="")
    code, out, err = call(capsys, "delay", str(tmp_path / "a.npy"), str(tmp_path / "b.csv"), "--max-lag", "40",
                          "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert set(rec) == {"delay", "delay_samples", "peak", "confidence"}
    assert rec["delay_samples"] == pytest.approx(7.25, abs=0.02)
    assert rec["delay"] == pytest.approx(7.25, abs=0.02)
    assert rec["peak"] > 0.99


def test_delay_two_columns_of_one_csv_fs_and_plot(tmp_path, capsys):
    x, y = _delay_pair(-3.5)
    path = tmp_path / "pair.csv"
    np.savetxt(path, np.column_stack([y, x]), delimiter=",", header="left,right", comments="")
    code, out, err = call(capsys, "delay", f"{path}:right", f"{path}:left", "--fs", "100", "--max-lag", "20",
                          "--json")
    assert code == 0, err
    rec = json.loads(out)
    assert rec["delay_samples"] == pytest.approx(-3.5, abs=0.02)
    assert rec["delay"] == pytest.approx(-0.035, abs=2e-4)
    code, out, err = call(capsys, "delay", f"{path}:right", f"{path}:left", "--fs", "100", "--phat",
                          "--plot", str(tmp_path / "d.png"))
    assert code == 0, err
    assert "samples" in out and "GCC-PHAT" in out and "1/fs units" in out
    line = _near(_png(tmp_path / "d.png"), _C3, 50)  # the delay's dashed line: a vertical stroke
    assert line.sum(axis=0).max() > 100


def test_delay_plot_without_phat_draws_the_cross_correlation(tmp_path, capsys, monkeypatch):
    # the plot follows --phat: without it, the GCC-PHAT curve is never computed
    from sigcorr.cli import delay as delay_command

    def no_phat(*args):
        raise AssertionError("GCC-PHAT computed without --phat")

    monkeypatch.setattr(delay_command, "phat_correlation", no_phat)
    x, y = _delay_pair()
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", y)
    code, out, err = call(capsys, "delay", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--max-lag", "40",
                          "--plot", str(tmp_path / "d.png"))
    assert code == 0, err
    assert "cross-correlation" in out and (tmp_path / "d.png").exists()


@pytest.mark.parametrize("args, message", [
    (["nope.csv", "nope2.csv"], "no such file"),
    (["{a}", "{a}:missing"], "no column 'missing'"),
    (["{a}", "{a}", "--max-lag", "100000"], "max_lag must be <"),
])
def test_delay_errors_are_one_line(tmp_path, capsys, args, message):
    a = tmp_path / "a.csv"
    np.savetxt(a, np.arange(50.0), delimiter=",", header="v", comments="")
    code, out, err = call(capsys, "delay", *[s.format(a=a) for s in args])
    assert code == 1
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_delay_usage_errors_exit_2(capsys):
    assert call(capsys, "delay", "only-one.csv")[0] == 2
    assert call(capsys, "delay", "a", "b", "--max-lag", "-3")[0] == 2


def test_delay_on_files_no_traceback(tmp_path, capsys):
    x, y = _delay_pair(2.0, 500)
    np.save(tmp_path / "a.npy", x)
    np.save(tmp_path / "b.npy", y)
    code, out, err = call(capsys, "delay", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--json")
    assert code == 0, err
    assert json.loads(out)["delay_samples"] == pytest.approx(2.0, abs=0.05)
    code, out, err = call(capsys, "delay", str(tmp_path / "a.npy"), str(tmp_path / "zzz.npy"))
    assert code == 1 and "Traceback" not in err


# ---------------------------------------------------------------------------
# period: timestamps, natural units, --all
# ---------------------------------------------------------------------------


def timed_csv(path, stamps, values, header=("time", "value")):
    with open(path, "w") as f:
        if header:
            f.write(",".join(header) + "\n")
        for s, v in zip(stamps, values):
            f.write(f"{s},{'' if np.isnan(v) else f'{v:.5f}'}\n")
    return str(path)


def _hourly(tmp_path, header=True):
    t = np.arange("2024-01-01T00", "2024-02-26T00", dtype="datetime64[h]")  # 8 weeks
    h = np.arange(t.size)
    y = np.sin(2 * np.pi * h / 24) + 0.8 * ((h % 168) < 48) + 0.3 * np.random.default_rng(0).standard_normal(h.size)
    stamps = [np.datetime_as_string(v, unit="m").replace("T", " ") for v in t]
    return timed_csv(tmp_path / "hourly.csv", stamps, y, header=("time", "load") if header else None)


def test_period_hourly_timestamps_natural_units_and_seconds(tmp_path, capsys):
    path = _hourly(tmp_path)
    code, out, err = call(capsys, "period", path)
    assert code == 0, err
    assert "one sample every 1 hour from 2024-01-01" in out
    assert "24.0 hours" in out and "7.00 days" in out
    code, out, err = call(capsys, "period", path, "--json")
    record = json.loads(out)
    assert set(record) == {"period", "strength", "period_seconds"}
    assert record["period_seconds"] == pytest.approx(record["period"] * 3600)
    assert record["period_seconds"] in (pytest.approx(86400), pytest.approx(604800))
    # --all: both cycles, in samples and in seconds
    code, out, err = call(capsys, "period", path, "--all", "--json")
    assert code == 0, err
    cycles = json.loads(out)["periods"]
    assert sorted(round(c["period"]) for c in cycles[:3]) == [24, 168]
    assert sorted(round(c["period_seconds"]) for c in cycles[:3]) == [86400, 604800]
    assert all(set(c) == {"period", "strength", "period_seconds"} for c in cycles)
    # no header: the date column is still recognised (and not taken for a header)
    code, out, err = call(capsys, "period", _hourly(tmp_path, header=False), "--json")
    assert code == 0, err
    assert json.loads(out)["period_seconds"] in (pytest.approx(86400), pytest.approx(604800))


def test_period_fs_overrides_timestamps(tmp_path, capsys):
    path = _hourly(tmp_path)
    code, out, err = call(capsys, "period", path, "--fs", "24", "--json")  # periods in days
    assert code == 0, err
    record = json.loads(out)
    assert "period_seconds" not in record
    assert record["period"] in (pytest.approx(1.0), pytest.approx(7.0))


def test_period_daily_with_gaps(tmp_path, capsys):
    rng = np.random.default_rng(1)
    days = np.arange("2020-01-01", "2021-12-01", dtype="datetime64[D]")
    k = np.arange(days.size)
    y = np.array([0, 1, 2, 3, 4, 8, 9.0])[k % 7] + 0.5 * rng.standard_normal(k.size) + 0.01 * k
    keep = np.ones(k.size, bool)
    keep[[10, 11, 12, 300]] = False  # gaps: days left out of the file
    path = timed_csv(tmp_path / "daily.csv", [str(d) for d in days[keep]], y[keep], ("date", "sales"))
    code, out, err = call(capsys, "period", path)
    assert code == 0, err
    assert f"{days.size} samples (4 missing)" in out
    assert "7.00 days" in out
    code, out, err = call(capsys, "period", path, "--json")
    record = json.loads(out)
    assert record["period"] == 7.0 and record["period_seconds"] == 7 * 86400.0


def test_period_monthly_and_weekly_units(tmp_path, capsys):
    rng = np.random.default_rng(2)
    months = np.arange("2000-01", "2020-01", dtype="datetime64[M]")
    k = np.arange(months.size)
    y = 10 + 0.05 * k + np.sin(2 * np.pi * k / 12) + 0.2 * rng.standard_normal(k.size)
    path = timed_csv(tmp_path / "monthly.csv", [f"{m}-01" for m in months], y, ("month", "v"))
    code, out, err = call(capsys, "period", path)
    assert code == 0, err
    assert "one sample every 1 month" in out and "12.0 months" in out
    record = json.loads(call(capsys, "period", path, "--json")[1])
    assert record["period"] == 12.0
    assert record["period_seconds"] == pytest.approx(365.2425 * 86400)  # 12 mean months
    weeks = np.datetime64("1990-01-07") + 7 * np.arange(1040)
    w = np.arange(1040)
    y = np.sin(2 * np.pi * w * 7 / 365.25) + 0.2 * rng.standard_normal(w.size)
    path = timed_csv(tmp_path / "weekly.csv", [str(d) for d in weeks], y, ("week", "v"))
    code, out, err = call(capsys, "period", path)
    assert code == 0, err
    assert "52.2 weeks" in out


def test_period_irregular_timestamps_in_natural_units(tmp_path, capsys):
    # irregular timestamps (30 to 90 minutes apart), a daily cycle: reported
    # in natural units, from the kernel autocorrelation on the timestamps
    rng = np.random.default_rng(3)
    steps = rng.integers(1800, 5400, 600)
    t = np.datetime64("2024-01-01T00:00:00") + np.cumsum(steps).astype("timedelta64[s]")
    hours = np.cumsum(steps) / 3600.0
    y = np.sin(2 * np.pi * hours / 24) + 0.3 * rng.standard_normal(hours.size)
    path = timed_csv(tmp_path / "irregular.csv", [str(v) for v in t], y, ("t", "v"))
    code, out, err = call(capsys, "period", path)
    assert code == 0, err
    assert "irregular timestamps" in out and "24.0 hours" in out
    record = json.loads(call(capsys, "period", path, "--json")[1])
    assert record["period_seconds"] == pytest.approx(86400, rel=0.01)
    cycles = json.loads(call(capsys, "period", path, "--all", "--json")[1])["periods"]
    assert cycles[0]["period_seconds"] == pytest.approx(86400, rel=0.01)
    # repeated timestamps: averaged, and the user told how many
    stamps = [str(v) for v in t]
    dup = timed_csv(tmp_path / "dup.csv", stamps + stamps[:3], np.concatenate([y, y[:3] + 1]), ("t", "v"))
    code, out, err = call(capsys, "period", dup, "--json")
    assert code == 0 and "3 repeated timestamps" in err and "averaged" in err
    assert json.loads(out)["period_seconds"] == pytest.approx(86400, rel=0.01)


def test_period_all_without_timestamps(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.sin(2 * np.pi * np.arange(2000) / 40.0))
    code, out, err = call(capsys, "period", str(tmp_path / "x.npy"), "--all", "--json")
    assert code == 0, err
    cycles = json.loads(out)["periods"]
    assert cycles[0]["period"] == 40.0 and set(cycles[0]) == {"period", "strength"}
    assert len(cycles) == 1  # 80, 120, ... are its multiples, not cycles
    code, out, err = call(capsys, "period", str(tmp_path / "x.npy"), "--all")
    assert code == 0 and "40" in out


# many images: sigcorr match IMAGES... --template T
# ---------------------------------------------------------------------------


def _frames(tmp_path, n=5):
    image = photo()
    paths = []
    for i in range(n):
        paths.append(save_png(tmp_path / f"frame{i:02d}.png", np.roll(image, (6 * i, 4 * i), axis=(0, 1))))
    t1 = save_png(tmp_path / "t1.png", image[150:186, 60:100])
    t2 = save_png(tmp_path / "t2.png", image[40:76, 200:240])
    return paths, t1, t2


def test_many_images_jsonl_globs_and_bad_files(tmp_path, capsys):
    paths, t1, t2 = _frames(tmp_path)
    (tmp_path / "broken.png").write_text("not an image")
    code, out, err = call(capsys, "match", str(tmp_path / "frame*.png"), str(tmp_path / "broken.png"),
                          str(tmp_path / "absent.png"), "--template", t1, "--template", t2, "--jsonl",
                          "--max-matches", "2")
    assert code == 1  # some files failed; the others were searched
    lines = [json.loads(line) for line in out.strip().splitlines()]
    assert [rec["file"] for rec in lines] == paths + [str(tmp_path / "broken.png"), str(tmp_path / "absent.png")]
    for i, rec in enumerate(lines[:5]):
        got = sorted((m["template"], m["position"]) for m in rec["matches"])
        assert got == [(0, [150 + 6 * i, 60 + 4 * i]), (1, [40 + 6 * i, 200 + 4 * i])]
        for m in rec["matches"]:
            assert m["score"] == pytest.approx(1.0, abs=1e-3)
            assert m["center"] == [m["position"][0] + 17.5, m["position"][1] + 19.5]
    assert "cannot read as an image" in lines[5]["error"]
    assert "no such file" in lines[6]["error"]
    assert err == ""  # no progress bar off a terminal


def test_many_images_text_scales_and_templates_of_two_sizes(tmp_path, capsys):
    paths, t1, _ = _frames(tmp_path, 2)
    small = save_png(tmp_path / "small.png", photo()[100:120, 120:150])
    code, out, err = call(capsys, "match", *paths, "--template", t1, "--template", small, "--max-matches", "2")
    assert code == 0, err
    assert [line.split(":")[0] for line in out.strip().splitlines()] == paths
    # both crops score 1: equal scores rank in raster order (locate's rule for every search)
    assert out.splitlines()[0].endswith(": (100, 120) 1.0000 t1, (150, 60) 1.0000 t0")
    code, out, err = call(capsys, "match", paths[0], "--template", t1, "--jsonl", "--scales", "0.8:1.2:5",
                          "--angles", "0:360:90")
    assert code == 0, err
    m = json.loads(out)["matches"][0]
    assert m["scale"] == pytest.approx(1.0) and m["angle"] == 0.0 and m["position"] == [150.0, 60.0]
    # templates of two sizes on one object: suppressed together by their centres, one match for it
    inner = save_png(tmp_path / "inner.png", photo()[160:180, 70:90])
    code, out, err = call(capsys, "match", paths[0], "--template", t1, "--template", inner, "--jsonl",
                          "--max-matches", "2")
    assert code == 0, err
    found = json.loads(out)["matches"]
    assert found[0]["position"] in ([150, 60], [160, 70]) and found[0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert found[1]["score"] < 0.99
    # the two-argument form with a scale search
    code, out, err = call(capsys, "match", paths[0], t1, "--json", "--scales", "0.9:1.1:3")
    assert code == 0 and json.loads(out)["matches"][0]["position"] == [150.0, 60.0]


def test_many_images_in_worker_processes(tmp_path, capsys):
    paths, t1, _ = _frames(tmp_path, 4)
    code, out, err = call(capsys, "match", str(tmp_path / "frame*.png"), "--template", t1, "--jsonl",
                          "--workers", "2")
    assert code == 0, err
    recs = [json.loads(line) for line in out.strip().splitlines()]
    assert [r["file"] for r in recs] == paths
    assert [r["matches"][0]["position"] for r in recs] == [[150 + 6 * i, 60 + 4 * i] for i in range(4)]


def test_many_images_usage_errors(tmp_path, capsys):
    paths, t1, _ = _frames(tmp_path, 1)
    for argv, fragment in (
        (["match", "--template", t1], "give the images"),
        (["match", paths[0], "--template", t1, "--plot", str(tmp_path / "p.png")], "--plot"),
        (["match", paths[0], paths[0], paths[0]], "both IMAGE and TEMPLATE"),
        (["match", paths[0], t1, "--jsonl"], "--jsonl goes with --template"),
        (["match", paths[0], "--template", str(tmp_path / "nope.png")], "no such file"),
    ):
        code, out, err = call(capsys, *argv)
        assert code == 1, argv
        assert_clean_error(code, err, fragment)
    for bad in (["--scales", "0:2:5"], ["--scales", "1:2"], ["--angles", "0:360:0"], ["--angles", "a:b:c"]):
        code, out, err = call(capsys, "match", paths[0], "--template", t1, *bad)
        assert code == 2, bad


def test_a_template_larger_than_the_image_is_one_message_everywhere(tmp_path, capsys):
    image = photo()
    img = save_png(tmp_path / "img.png", image[:50, :50])
    big = save_png(tmp_path / "big.png", image[:60, :40])
    want = "template (60x40) is larger than the image (50x50) in at least one dimension"
    for extra in ([], ["--scales", "0.9:1.1:3"]):
        code, out, err = call(capsys, "match", img, big, *extra)
        assert code == 1 and err.strip() == f"sigcorr match: error: {want}", err
    code, out, err = call(capsys, "match", img, "--template", big, "--jsonl")
    assert code == 1
    assert json.loads(out)["error"] == want.replace("template", "template 0")


def test_the_plotted_autocorrelation_is_the_one_detect_period_reads(tmp_path):
    # a spike would flatten a plain detrended autocorrelation; detect_period
    # treats it as missing, and so does the curve the table and plot show
    t = np.arange(600.0)
    x = np.sin(2 * np.pi * t / 30) + 0.01 * t + 0.2 * np.random.default_rng(0).standard_normal(600)
    x[250] = 60.0
    result, acf = cli.run_period(x)
    assert result.period == pytest.approx(30, abs=0.2)
    assert acf[0] == 1.0 and acf[30] == pytest.approx(result.strength, abs=0.02)


def test_match_a_template_as_large_as_the_image(tmp_path, capsys):
    image = photo()[:40, :50]
    img = save_png(tmp_path / "img.png", image)
    np.save(tmp_path / "img.npy", image.astype(float))
    for path, extra in ((img, []), (img, ["--pyramid", "1"]), (str(tmp_path / "img.npy"), ["--method", "sqdiff"])):
        code, out, err = call(capsys, "match", path, path, "--json", *extra)
        assert code == 0, err
        got = json.loads(out)["matches"]
        assert [m["position"] for m in got] == [[0, 0]], (extra, got)


def test_match_nan_threshold_is_a_usage_error(tmp_path, capsys):
    paths, t1, _ = _frames(tmp_path, 1)
    for argv in (["match", "--threshold", "nan"], ["match", paths[0], "--template", t1, "--threshold", "NaN"]):
        code, out, err = call(capsys, *argv)
        assert code == 2, (argv, err)
        assert "Traceback" not in err and "threshold must be a number, not NaN" in err
        assert out == ""


# --- issue 23 ------------------------------------------------------------------


def test_a_bad_cell_is_named_without_column(tmp_path, capsys):
    (tmp_path / "one.csv").write_text("t,v\n1,2.5\n2,oops\n3,4\n")  # both columns: one text cell in v
    (tmp_path / "two.csv").write_text("a,b\nx,1\n2,y\n")
    for name, fragment in (("one.csv", "'oops' in column 'v' at line 3"), ("two.csv", "in column 'b' at line 3")):
        (tmp_path / name).write_text((tmp_path / name).read_text().replace("1,2.5", "x,2.5"))
        code, out, err = call(capsys, "period", str(tmp_path / name))
        assert_clean_error(code, err, "no numeric column")
        assert fragment in err, err


def test_a_file_or_glob_is_named_once(tmp_path, capsys):
    tpl = str(tmp_path / "t.npy")
    np.save(tpl, np.ones((3, 3)))
    pattern = str(tmp_path / "nothing*.png")
    code, out, err = call(capsys, "match", pattern, str(tmp_path / "absent.png"), "--template", tpl)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].count("nothing*.png") == 1 and "no file matches" in lines[0], lines
    assert lines[1].count("absent.png") == 1 and "no such file" in lines[1], lines
    code, out, err = call(capsys, "match", pattern, "--template", tpl, "--jsonl")
    rec = json.loads(out)
    assert rec["file"] == pattern and "nothing*" not in rec["error"], rec


def test_delay_phat_with_a_dc_offset(tmp_path, capsys, rng):
    y = rng.standard_normal(400) + 50
    np.save(tmp_path / "a.npy", np.roll(y, 5))
    np.save(tmp_path / "b.npy", y)
    code, out, err = call(capsys, "delay", str(tmp_path / "a.npy"), str(tmp_path / "b.npy"), "--phat",
                          "--max-lag", "20", "--json")
    assert code == 0 and abs(json.loads(out)["delay"] - 5) < 0.05, out


def test_match_volumes_npy_and_tiff_stack(tmp_path, capsys):
    rng = np.random.default_rng(3)
    vol = rng.random((20, 24, 22))
    np.save(tmp_path / "vol.npy", vol)
    np.save(tmp_path / "tpl.npy", vol[4:10, 7:13, 5:11])
    code, out, err = call(capsys, "match", str(tmp_path / "vol.npy"), str(tmp_path / "tpl.npy"), "--json")
    assert code == 0, err
    assert json.loads(out)["matches"][0]["position"] == [4, 7, 5]
    code, out, err = call(capsys, "match", str(tmp_path / "vol.npy"), str(tmp_path / "tpl.npy"))
    assert code == 0 and "volume 20x24x22" in out and "z" in out.splitlines()[1]
    # a multi-page TIFF is a volume (pages read as grayscale)
    pages = [PIL_Image.fromarray((255 * p).astype(np.uint8)) for p in vol]
    pages[0].save(tmp_path / "vol.tif", save_all=True, append_images=pages[1:])
    code, out, err = call(capsys, "match", str(tmp_path / "vol.tif"), str(tmp_path / "tpl.npy"), "--json")
    assert code == 0, err
    assert json.loads(out)["matches"][0]["position"] == [4, 7, 5]
    # mixing a volume and a 2-D template, or the 2-D-only options: one clear line
    save_png(tmp_path / "flat.png", 255 * vol[0])
    code, out, err = call(capsys, "match", str(tmp_path / "vol.npy"), str(tmp_path / "flat.png"))
    assert code != 0 and "3-D template" in err and "Traceback" not in err
    code, out, err = call(capsys, "match", str(tmp_path / "vol.npy"), str(tmp_path / "tpl.npy"), "--scales",
                          "0.9:1.1:3")
    assert code != 0 and "2-D images only" in err
    # the pyramid searches volumes too (here the 6-voxel template keeps it at full resolution, as in 2-D)
    code, out, err = call(capsys, "match", str(tmp_path / "vol.npy"), str(tmp_path / "tpl.npy"), "--pyramid", "1",
                          "--json")
    assert code == 0 and json.loads(out)["matches"][0]["position"] == [4, 7, 5], err
