"""The ``ctx`` object handed to a benchmark's ``run(ctx)``."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

from ._atomic import atomic_write, atomic_write_text

__all__ = ["BenchmarkSkipped", "RunContext"]

T = TypeVar("T")
_FIG_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class BenchmarkSkipped(Exception):
    """Raised by :meth:`RunContext.skip`; the run is recorded as skipped, not failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RunContext:
    """Run-time services for one benchmark run.

    Attributes:
        quick: small, fast configuration (a few minutes on 2 CPU cores at most).
        device: ``"cpu"`` or ``"cuda"`` (or ``"cuda:N"``).
        seed: integer seed; torch, NumPy and ``random`` are seeded with it before ``run``.
        out_dir: this run's output directory (exists).
        options: extra ``-o key=value`` options from the command line.
    """

    def __init__(
        self,
        *,
        out_dir: str | os.PathLike,
        quick: bool = False,
        device: str = "cpu",
        seed: int = 0,
        options: dict[str, Any] | None = None,
        console: TextIO | None = None,
        progress_step: float = 10.0,
        flush_interval: float = 0.5,
    ) -> None:
        self.quick = bool(quick)
        self.device = str(device)
        self.seed = int(seed)
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.options: dict[str, Any] = dict(options or {})
        self.figures: list[Path] = []
        self._console = console
        self._progress_step = float(progress_step)
        self._flush_interval = float(flush_interval)
        self._lines: list[str] = []
        self._t0 = time.perf_counter()
        self._last_flush = -float("inf")
        self._active_bars = 0

    # -- logging ---------------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.out_dir / "log.txt"

    def _stream(self) -> TextIO:
        return self._console if self._console is not None else sys.stdout

    def log(self, msg: str, *, console: bool = True) -> None:
        """Print ``msg`` to the console and append it to ``out_dir/log.txt``.

        The log file carries an elapsed-time prefix and is rewritten atomically (at most every
        ``flush_interval`` seconds during the run and always at :meth:`close`).
        """
        msg = str(msg)
        elapsed = time.perf_counter() - self._t0
        for line in msg.splitlines() or [""]:
            self._lines.append(f"[{elapsed:8.2f}s] {line}")
        if console:
            if self._active_bars:
                try:
                    from tqdm import tqdm

                    tqdm.write(msg, file=self._stream())
                except ImportError:
                    print(msg, file=self._stream(), flush=True)
            else:
                print(msg, file=self._stream(), flush=True)
        if time.perf_counter() - self._last_flush >= self._flush_interval:
            self.flush()

    def flush(self) -> None:
        """Write the full log to ``log.txt`` atomically."""
        atomic_write_text(self.log_path, "\n".join(self._lines) + ("\n" if self._lines else ""))
        self._last_flush = time.perf_counter()

    def close(self) -> None:
        """Flush the log; call once the run is over."""
        self.flush()

    # -- progress --------------------------------------------------------------------------
    def progress(self, iterable: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
        """Iterate over ``iterable`` with a tqdm bar (on a TTY) and log a line every 10 %.

        When the total is unknown (no ``len`` and no ``total``), a line is logged every
        30 seconds instead. The bar is disabled when stderr is not a terminal.
        """
        if total is None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None
        isatty = bool(getattr(sys.stderr, "isatty", lambda: False)())
        bar = None
        if isatty:
            try:
                from tqdm import tqdm

                bar = tqdm(total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)
            except ImportError:
                bar = None
        step = self._progress_step
        next_pct = step
        t_start = time.perf_counter()
        last_time_log = t_start
        count = 0
        self._active_bars += 1
        try:
            for item in iterable:
                yield item
                count += 1
                if bar is not None:
                    bar.update(1)
                now = time.perf_counter()
                if total:
                    pct = 100.0 * count / total
                    if pct + 1e-9 >= next_pct:
                        while next_pct <= pct + 1e-9:
                            next_pct += step
                        self.log(
                            f"{desc}: {count}/{total} ({pct:.0f}%) {now - t_start:.1f}s",
                            console=bar is None,
                        )
                elif now - last_time_log >= 30.0:
                    last_time_log = now
                    self.log(f"{desc}: {count} done, {now - t_start:.1f}s", console=bar is None)
            if not total:
                self.log(
                    f"{desc}: {count} done, {time.perf_counter() - t_start:.1f}s",
                    console=bar is None,
                )
        finally:
            self._active_bars -= 1
            if bar is not None:
                bar.close()

    # -- figures ---------------------------------------------------------------------------
    def save_figure(self, fig: Any, name: str, *, close: bool = True, dpi: int = 120) -> Path:
        """Save a matplotlib figure as ``out_dir/<name>.png`` (atomically) and return the path.

        Args:
            fig: a ``matplotlib.figure.Figure``.
            name: file stem (letters, digits, ``_ . -``); a ``.png`` suffix is accepted.
            close: close the figure afterwards (frees pyplot's reference).
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"save_figure: name must be a non-empty string, got {name!r}")
        stem = name[:-4] if name.lower().endswith(".png") else name
        if not _FIG_NAME_RE.match(stem):
            raise ValueError(
                "save_figure: name must contain only letters, digits, '_', '.', '-' "
                f"(no path separators), got {name!r}"
            )
        if not hasattr(fig, "savefig"):
            raise TypeError(
                f"save_figure: fig must be a matplotlib Figure, got {type(fig).__name__}"
            )
        path = self.out_dir / f"{stem}.png"
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))
        if path not in self.figures:  # saved again under the same name: one file, listed once
            self.figures.append(path)
        if close and "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close(fig)
        self.log(f"saved figure {path.name}", console=False)
        return path

    # -- skipping --------------------------------------------------------------------------
    def skip(self, reason: str) -> None:
        """Stop the benchmark and record it as skipped (not failed) with ``reason``."""
        raise BenchmarkSkipped(str(reason))
