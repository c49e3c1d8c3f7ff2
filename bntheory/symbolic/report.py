"""Frozen result records for the symbolic proofs, with Markdown and JSON renderings.

An :class:`IdentityResult` records one proved (or disproved) statement: its name, the
statement in words, whether SymPy reduced the defining difference to exactly 0, and for
which batch sizes the proof is valid (``"m=4"`` for a concrete batch, ``"all m"`` for a
proof with a symbolic batch size). A :class:`SymbolicReport` collects them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["IdentityResult", "SymbolicReport"]


@dataclass(frozen=True, slots=True)
class IdentityResult:
    """One symbolic statement and the outcome of its proof.

    Attributes
    ----------
    name : str
        Stable identifier, e.g. ``"closed_form_dx"``.
    statement : str
        The statement in words / plain LaTeX. Every statement is phrased so that
        ``holds=True`` means "SymPy proved it"; a refutation of a published claim is
        phrased as the statement "... fails: counterexample ..." and proved as such.
    holds : bool
        True iff the defining difference simplified to exactly 0 (or the stated
        inequality / counterexample was established exactly).
    proven_for : str
        ``"m=4"`` (concrete batch size), ``"all m"`` (symbolic batch size) or a
        description such as ``"m=2, p*q=2 (m'=4)"``.
    seconds : float
        Wall-clock time of the proof.
    detail : str
        How it was proved; residuals when it does not hold.
    source : str
        Where the statement comes from (paper, equation).
    """

    name: str
    statement: str
    holds: bool
    proven_for: str
    seconds: float
    detail: str = ""
    source: str = ""

    def to_dict(self) -> dict:
        """Plain-JSON dictionary of the fields.

        Returns
        -------
        dict
            ``name``, ``statement``, ``holds``, ``proven_for``, ``seconds``, ``detail``,
            ``source``.
        """
        return {
            "name": self.name,
            "statement": self.statement,
            "holds": bool(self.holds),
            "proven_for": self.proven_for,
            "seconds": float(self.seconds),
            "detail": self.detail,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SymbolicReport:
    """A collection of :class:`IdentityResult`.

    Attributes
    ----------
    items : tuple of IdentityResult
    ms : tuple of int
        The concrete batch sizes covered (empty if only general proofs).
    """

    items: tuple[IdentityResult, ...]
    ms: tuple[int, ...] = ()

    @property
    def holds(self) -> bool:
        """True iff every item holds."""
        return all(it.holds for it in self.items)

    @property
    def seconds(self) -> float:
        """Total proof time."""
        return float(sum(it.seconds for it in self.items))

    @property
    def names(self) -> tuple[str, ...]:
        """Distinct item names, in order of first appearance."""
        return tuple(dict.fromkeys(it.name for it in self.items))

    @property
    def failures(self) -> tuple[IdentityResult, ...]:
        """Items that do not hold."""
        return tuple(it for it in self.items if not it.holds)

    def get(self, name: str, proven_for: str | None = None) -> IdentityResult:
        """Return the first item called ``name`` (optionally with a given ``proven_for``).

        Parameters
        ----------
        name : str
            Item name.
        proven_for : str, optional
            Required ``proven_for`` (e.g. ``"m=4"`` or ``"all m"``).

        Returns
        -------
        IdentityResult
            The item (``KeyError`` when there is none).
        """
        for it in self.items:
            if it.name == name and (proven_for is None or it.proven_for == proven_for):
                return it
        raise KeyError(f"no item named {name!r}" + (f" for {proven_for!r}" if proven_for else ""))

    def to_dict(self) -> dict:
        """Plain-JSON dictionary: ``holds``, ``ms``, ``seconds`` and the items.

        Returns
        -------
        dict
            The report as plain JSON types.
        """
        return {
            "holds": self.holds,
            "ms": list(self.ms),
            "seconds": self.seconds,
            "items": [it.to_dict() for it in self.items],
        }

    def to_markdown(self, *, details: bool = False) -> str:
        """Markdown table of the items (name, proven for, holds, seconds, statement).

        Parameters
        ----------
        details : bool
            Add a column with each proof's detail.

        Returns
        -------
        str
            The Markdown text.
        """
        ms = ", ".join(str(m) for m in self.ms) if self.ms else "-"
        lines = [
            f"Symbolic proofs (SymPy): {'ALL HOLD' if self.holds else 'SOME FAIL'}; "
            f"batch sizes m = {ms}; {len(self.items)} items; {self.seconds:.2f} s",
            "",
            "| name | proven for | holds | s | statement |" + (" detail |" if details else ""),
            "|---|---|---|---|---|" + ("---|" if details else ""),
        ]
        for it in self.items:
            stmt = it.statement.replace("|", "\\|")
            row = f"| {it.name} | {it.proven_for} | {'yes' if it.holds else 'NO'} | {it.seconds:.3f} | {stmt} |"
            if details:
                row += " " + it.detail.replace("|", "\\|") + " |"
            lines.append(row)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()
