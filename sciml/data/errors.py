"""The one exception type of the data layer: a dataset file (or the arrays bound for one) is bad."""

from __future__ import annotations

import os

__all__ = ["DatasetError", "MissingKeyError"]


class DatasetError(ValueError):
    """A dataset file, or the data about to be written to one, is invalid.

    A subclass of :class:`ValueError` (bad input), so ``except ValueError`` catches it too. The
    message always starts with the file (``path``) and, where one is involved, the key inside
    it (``split/key`` or a group name), e.g.
    ``"/data/darcy.h5 [train/x]: 3 non-finite values (NaN/Inf)"``.

    Attributes:
        path: the file concerned (``None`` only when no file is involved yet).
        key: the array, group or attribute inside the file (``None`` for file-level problems).
        reason: the bare message without the location prefix.
    """

    def __init__(
        self, reason: str, *, path: str | os.PathLike[str] | None = None, key: str | None = None
    ) -> None:
        self.reason = reason
        self.path = None if path is None else os.fspath(path)
        self.key = key
        super().__init__(self._format())

    def _format(self) -> str:
        where = "<no file>" if self.path is None else self.path
        if self.key is not None:
            where += f" [{self.key}]"
        return f"{where}: {self.reason}"

    def __str__(self) -> str:  # KeyError in a subclass would otherwise quote the message
        return self._format()

    def __reduce__(self):  # keep path/key when pickled across DataLoader workers
        return (_rebuild, (type(self), self.reason, self.path, self.key))


class MissingKeyError(DatasetError, KeyError):
    """A split, array, coordinate or statistic is not in the file (also a :class:`KeyError`)."""


def _rebuild(
    cls: type[DatasetError], reason: str, path: str | None, key: str | None
) -> DatasetError:
    return cls(reason, path=path, key=key)
