"""``history.json`` and its journal: the record :class:`~fnnet.train.HistoryWriter` keeps.

Rewriting every value so far at each checkpoint makes a long run's logging quadratic
(a checkpoint every 7 steps over 8,800 steps spent minutes in it). So the record has
two files:

- ``history.json``, a snapshot: every value at the time it was written (atomically),
  plus ``"journal"`` (the journal it continues in) and ``"journal_lines"`` (how many of
  that journal's lines it holds already). It is written when a run begins and ends, and
  at most every ``SAVE_EVERY_SECONDS`` in between, so it is valid JSON at every moment.
- ``history.json.journal``: what was reported since, one line appended at each
  checkpoint with only the values new since the line before (``"step"`` the last step
  reported). Each line is ``<crc32 hex> <json>``; the first names the journal.

:func:`read_history` reads both back as one record. Only the journal's last line may
be incomplete (a process killed while appending it): that line is dropped when the
record holds the step asked for already; any other damage is an error naming the line.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import zlib
from collections.abc import Mapping
from typing import Any

#: tag -> ([step, ...], [value, ...])
Scalars = dict[str, tuple[list[int], list[float]]]


class HistoryDamagedError(ValueError):
    """``history.json`` or its journal cannot be read back as the record a resumed run
    needs (a damaged line, a missing one, a record ending before the resumed step)."""


def journal_path(path: pathlib.Path) -> pathlib.Path:
    """The journal beside the snapshot ``path``."""
    return path.with_name(path.name + ".journal")


def _line(content: Mapping[str, Any]) -> str:
    text = json.dumps(content, separators=(",", ":"))
    return f"{zlib.crc32(text.encode()):08x} {text}\n"


def _parsed(line: str) -> dict[str, Any] | None:
    """A journal line's content, or None where it is damaged (its checksum or JSON)."""
    crc, _, text = line.partition(" ")
    try:
        if int(crc, 16) != zlib.crc32(text.encode()):
            return None
        content = json.loads(text)
    except ValueError:
        return None
    return content if isinstance(content, dict) else None


class Journal:
    """The snapshot at ``path`` and its journal, written as a run reports.

    Args:
        path: the snapshot (``history.json``).
    """

    def __init__(self, path: pathlib.Path) -> None:
        self.path = path
        self.journal = journal_path(path)
        self.name = ""
        self.lines = 0
        # values per tag (history entries per name) already in a line or snapshot
        self.written: dict[str, int] = {}
        self.written_history: dict[str, int] = {}
        self._file: Any = None

    def start(self, scalars: Scalars, history: dict[str, list[float]],
              reported: int) -> None:
        """Begins a new journal after a snapshot of what ``scalars`` and ``history``
        hold (``reported``: the last step reported): the snapshot names the new journal
        first, so a process killed in between leaves a snapshot whose journal is not
        the one on disk, which is then ignored."""
        self.close()
        self.name, self.lines = secrets.token_hex(8), 0
        self.snapshot(scalars, history, {}, reported)
        temporary = self.journal.with_name(self.journal.name + ".tmp")
        temporary.write_text(_line({"journal": self.name}), encoding="utf-8")
        os.replace(temporary, self.journal)
        self._file = self.journal.open("a", encoding="utf-8")

    def snapshot(self, scalars: Scalars, history: dict[str, list[float]],
                 phases: Mapping[str, float], reported: int) -> None:
        """Writes every value to the snapshot, atomically; the journal's lines so far
        are then part of it."""
        content = {
            "scalars": {tag: [list(pair) for pair in zip(*series, strict=True)]
                        for tag, series in scalars.items()},
            "history": history, "phase_seconds": dict(phases),
            "journal": self.name, "journal_lines": self.lines, "reported": reported}
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(content), encoding="utf-8")
        os.replace(temporary, self.path)
        self.written = {tag: len(steps) for tag, (steps, _) in scalars.items()}
        self.written_history = {name: len(values) for name, values in history.items()}

    def append(self, scalars: Scalars, history: dict[str, list[float]], step: int) -> None:
        """Appends one line holding the values added since the last line or snapshot
        (``step``: the last step reported), and hands it to the operating system."""
        new: dict[str, list[list[float]]] = {}
        for tag, (steps, values) in scalars.items():
            done = self.written.get(tag, 0)
            if done < len(steps):
                new[tag] = [[s, v] for s, v in zip(steps[done:], values[done:], strict=True)]
                self.written[tag] = len(steps)
        epochs = {}
        for name, values in history.items():
            done = self.written_history.get(name, 0)
            if done < len(values):
                epochs[name] = values[done:]
                self.written_history[name] = len(values)
        self.lines += 1
        self._file.write(_line({"line": self.lines, "step": step, "scalars": new,
                                "history": epochs}))
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def finish(self, scalars: Scalars, history: dict[str, list[float]],
               phases: Mapping[str, float], reported: int) -> None:
        """The run's end: a last snapshot holds everything, and the journal goes."""
        self.close()
        self.snapshot(scalars, history, phases, reported)
        self.journal.unlink(missing_ok=True)


def read_history(path: str | os.PathLike[str], step: int | None = None) -> dict[str, Any]:
    """The record at ``path`` (``history.json``) with its journal's lines added: the
    snapshot's format, ``{"scalars": {tag: [[step, value], ...]}, "history": {...},
    "phase_seconds": {...}}`` (the phases as of the last snapshot).

    Args:
        path: the snapshot.
        step: the step the record must reach (a resumed run's first step); a damaged
            last journal line is dropped only when the record reaches it without.

    Raises:
        OSError: the snapshot cannot be read.
        HistoryDamagedError: the snapshot is no such record, or a journal line is
            damaged or missing where the record needs it (naming the line).
    """
    path = pathlib.Path(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        scalars = {str(tag): [[int(s), float(v)] for s, v in pairs]
                   for tag, pairs in saved["scalars"].items()}
        history = {str(name): [float(v) for v in values]
                   for name, values in saved["history"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise HistoryDamagedError(f"{str(path)!r} is not a history record ({error})") from None
    # a snapshot written whole at each checkpoint (before the journal) reaches any step
    reached = int(saved["reported"]) if "reported" in saved else float("inf")
    journal = journal_path(path)
    text = journal.read_text(encoding="utf-8") if saved.get("journal") and \
        journal.is_file() else ""
    header, *entries = text.split("\n")
    if entries and _parsed(header) == {"journal": saved["journal"]}:
        if entries[-1] == "":
            entries.pop()  # the newline that ends the last whole line
        skip = int(saved.get("journal_lines", 0))
        if len(entries) < skip:
            raise HistoryDamagedError(f"{str(journal)!r} holds {len(entries)} lines where "
                                      f"{str(path)!r} holds {skip} of them already")
        cut = not text.endswith("\n")  # a last line a killed process left incomplete
        for number, line in enumerate(entries, start=1):
            if number <= skip:
                continue  # in the snapshot already
            last = number == len(entries)
            content = None if last and cut else _parsed(line)
            if content is None or content.get("line") != number:
                if last and (step is None or reached >= step):
                    break  # what it held lies past the step asked for
                raise HistoryDamagedError(
                    f"{str(journal)!r}: line {number + 1} is damaged or out of order (the "
                    f"record before it reaches step {reached}"
                    + ("" if step is None else f"; the run resumes from step {step}") + ")")
            for tag, pairs in content["scalars"].items():
                scalars.setdefault(tag, []).extend(pairs)
            for name, values in content["history"].items():
                history.setdefault(name, []).extend(values)
            reached = max(reached, int(content["step"]))
    if step is not None and reached < step:
        raise HistoryDamagedError(f"{str(path)!r} and its journal reach step {reached}, "
                                  f"before step {step} the run resumes from")
    return {"scalars": scalars, "history": history,
            "phase_seconds": saved.get("phase_seconds", {})}
