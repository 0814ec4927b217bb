"""RunContext: logging, progress milestones, figures, skip."""

from __future__ import annotations

import io

import pytest

from sciml.bench import BenchmarkSkipped, RunContext


def _ctx(tmp_path, **kw):
    return RunContext(out_dir=tmp_path / "run", console=io.StringIO(), **kw)


def test_attributes_and_log_tee(tmp_path):
    console = io.StringIO()
    ctx = RunContext(
        out_dir=tmp_path / "r", quick=True, device="cpu", seed=5, options={"a": 1}, console=console
    )
    assert (ctx.quick, ctx.device, ctx.seed, ctx.options) == (True, "cpu", 5, {"a": 1})
    assert ctx.out_dir.is_dir()
    ctx.log("first")
    ctx.log("two\nlines")
    ctx.close()
    assert console.getvalue() == "first\ntwo\nlines\n"
    file_lines = (ctx.out_dir / "log.txt").read_text().splitlines()
    assert [line.split("] ", 1)[1] for line in file_lines] == ["first", "two", "lines"]


@pytest.mark.parametrize("total", [7, 20, 100, 3])
def test_progress_logs_every_ten_percent(tmp_path, total):
    ctx = _ctx(tmp_path)
    items = list(ctx.progress(range(total), desc="work"))
    assert items == list(range(total))
    ctx.close()
    lines = [line for line in (ctx.out_dir / "log.txt").read_text().splitlines() if "work:" in line]
    # one line each time the count crosses a 10 % boundary: ceil(10 % * total) steps
    counts = [int(line.split("work: ")[1].split("/")[0]) for line in lines]
    expected = sorted({-(-k * total // 10) for k in range(1, 11)})
    assert counts == expected
    assert lines[-1].split("work: ")[1].startswith(f"{total}/{total} (100%)")
    # not a TTY under pytest: milestones are echoed to the console too
    assert ctx._console.getvalue().count("work:") == len(expected)


def test_progress_unknown_total_logs_count(tmp_path):
    ctx = _ctx(tmp_path)
    assert sum(ctx.progress((i for i in range(5)), desc="gen")) == 10
    ctx.close()
    assert "gen: 5 done" in (ctx.out_dir / "log.txt").read_text()


def test_progress_explicit_total_for_generator(tmp_path):
    ctx = _ctx(tmp_path)
    list(ctx.progress((i for i in range(4)), desc="g", total=4))
    ctx.close()
    assert "g: 4/4 (100%)" in (ctx.out_dir / "log.txt").read_text()


def test_save_figure_png_and_name_checks(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.image import imread

    ctx = _ctx(tmp_path)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.imshow([[0.0, 1.0]])
    path = ctx.save_figure(fig, "heat.png", dpi=50)
    assert path == ctx.out_dir / "heat.png"
    assert imread(path).shape[:2] == (2 * 50, 3 * 50)
    assert not plt.fignum_exists(fig.number)  # closed after saving
    assert sorted(p.name for p in ctx.out_dir.iterdir()) == ["heat.png", "log.txt"]  # no temp
    for bad in ["", "../x", "a/b", ".hidden"]:
        with pytest.raises(ValueError, match="name"):
            ctx.save_figure(plt.figure(), bad)
    with pytest.raises(TypeError, match="matplotlib Figure"):
        ctx.save_figure(object(), "x")
    plt.close("all")


def test_figure_saved_twice_under_one_name_is_listed_once(tmp_path):
    """A figure refreshed under the same name (e.g. a loss curve every epoch) is one file, but
    ``ctx.figures`` (hence ``metrics.json`` ``figures`` and the run's README) listed it once
    per save. Reference: the PNG files in the run directory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ctx = _ctx(tmp_path)
    for name in ("curve", "curve.png", "other", "curve"):
        ctx.save_figure(plt.figure(figsize=(1, 1)), name, dpi=10)
    files = sorted(p for p in ctx.out_dir.iterdir() if p.suffix == ".png")
    assert sorted(ctx.figures) == files
    assert [p.name for p in ctx.figures] == ["curve.png", "other.png"]  # first-save order


def test_skip_raises_with_reason(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(BenchmarkSkipped) as info:
        ctx.skip("no GPU")
    assert info.value.reason == "no GPU" and str(info.value) == "no GPU"
