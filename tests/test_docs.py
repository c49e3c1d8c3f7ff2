"""Every public function and method of bntheory has a numpydoc docstring with a Parameters
section (when it takes arguments besides ``self``/``cls``), a Returns (or Yields) section
(when it returns something) and type hints on every argument.

Read from the source with ``ast`` (no imports, so the optional torch layer is checked too).
*Public*: a top-level function or class whose name does not start with ``_`` (or that is
listed in the module's ``__all__``), and the methods of a public class whose names do not
start with ``_``. ``bntheory.experiments`` is excluded (scripts), so are the private
``_check_*`` functions of the claims section modules (private by name). Properties are
documented as attributes: no Returns section required. ``__init__`` parameters belong to
the class docstring and are not checked here.

``PENDING`` lists today's offenders (``module.qualname``); the test fails for any new one,
and for an entry that no longer offends (remove it). Regenerate the list with
``python tests/test_docs.py``.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "bntheory"
EXCLUDED_PACKAGES = ("bntheory.experiments",)
_PARAMS = re.compile(r"^\s*Parameters\s*\n\s*-{3,}\s*$", re.M)
_RETURNS = re.compile(r"^\s*(Returns|Yields)\s*\n\s*-{3,}\s*$", re.M)


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if not name.startswith(EXCLUDED_PACKAGES):
            out[name] = path
    return out


def _dunder_all(tree: ast.Module) -> set[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            try:
                return set(ast.literal_eval(node.value))
            except ValueError:
                return set()
    return set()


def _own_nodes(fn: ast.AST):
    """Nodes of ``fn``'s body, not descending into nested functions, lambdas or classes."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _returns_something(fn: ast.FunctionDef) -> bool:
    ann = fn.returns
    if ann is not None:
        text = ast.unparse(ann)
        return text not in ("None", "'None'", "NoReturn", "Never")
    for node in _own_nodes(fn):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
    return False


def _is_property(fn: ast.FunctionDef) -> bool:
    for d in fn.decorator_list:
        name = ast.unparse(d)
        if name in ("property", "cached_property", "functools.cached_property") or name.endswith(
            (".setter", ".getter", ".deleter")
        ):
            return True
    return False


def _is_overload(fn: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) in ("overload", "typing.overload") for d in fn.decorator_list)


def problems_of(fn: ast.FunctionDef, method: bool) -> list[str]:
    """What is missing from ``fn``: ``"hints"``, ``"Parameters"``, ``"Returns"``."""
    args = fn.args
    positional = args.posonlyargs + args.args
    staticmethod_ = any(ast.unparse(d) == "staticmethod" for d in fn.decorator_list)
    if method and positional and not staticmethod_:
        positional = positional[1:]  # self / cls
    every = positional + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    out = []
    if any(a.annotation is None for a in every):
        out.append("hints")
    doc = ast.get_docstring(fn) or ""
    if every and not _PARAMS.search(doc):
        out.append("Parameters")
    if not _is_property(fn) and _returns_something(fn) and not _RETURNS.search(doc):
        out.append("Returns")
    return out


@functools.lru_cache(maxsize=1)
def offenders() -> dict[str, list[str]]:
    """``{module.qualname: [missing, ...]}`` over every public function and method."""
    out: dict[str, list[str]] = {}
    for modname, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exported = _dunder_all(tree)

        def public(name: str, exported: set[str] = exported) -> bool:
            return not name.startswith("_") or name in exported

        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and public(node.name):
                if _is_overload(node):
                    continue
                bad = problems_of(node, method=False)
                if bad:
                    out[f"{modname}.{node.name}"] = bad
            elif isinstance(node, ast.ClassDef) and public(node.name):
                for item in node.body:
                    if (
                        isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and not item.name.startswith("_")
                        and not _is_overload(item)
                    ):
                        bad = problems_of(item, method=True)
                        if bad:
                            out[f"{modname}.{node.name}.{item.name}"] = bad
    return out


# Today's offenders. Shrink it by documenting the function (numpydoc Parameters/Returns,
# type hints on every argument) and deleting its line; never add to it.
PENDING: set[str] = set()


def test_no_new_offenders():
    found = offenders()
    new = sorted(set(found) - PENDING)
    assert not new, (
        "public functions without numpydoc Parameters/Returns or type hints "
        "(document them; do not add them to PENDING):\n"
        + "\n".join(f"  {n}: missing {', '.join(found[n])}" for n in new)
    )


def test_pending_is_current():
    stale = sorted(PENDING - set(offenders()))
    assert not stale, "documented (or removed) since; delete from PENDING:\n" + "\n".join(
        f"  {n}" for n in stale
    )


def test_checker_can_fail():
    src = '''
def f(a, b: int) -> int:
    """No sections."""
    return a

def g(a: int) -> None:
    """Documented.

    Parameters
    ----------
    a : int
        A number.
    """

def h() -> float:
    """Returns nothing documented."""
    return 1.0

class C:
    def m(self, x: int) -> int:
        """Doc.

        Parameters
        ----------
        x : int
            X.

        Returns
        -------
        int
            X.
        """
        return x

    @property
    def p(self) -> int:
        """A property."""
        return 1
'''
    tree = ast.parse(src)
    fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert problems_of(fns["f"], method=False) == ["hints", "Parameters", "Returns"]
    assert problems_of(fns["g"], method=False) == []
    assert problems_of(fns["h"], method=False) == ["Returns"]
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef))
    assert [problems_of(m, method=True) for m in cls.body] == [[], []]


if __name__ == "__main__":  # print a fresh PENDING set
    found = offenders()
    sys.stdout.write("PENDING: set[str] = {\n")
    for name in sorted(found):
        sys.stdout.write(f'    "{name}",\n')
    sys.stdout.write("}\n")
    sys.stderr.write(f"{len(found)} offenders\n")
