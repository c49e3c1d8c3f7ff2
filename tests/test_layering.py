"""The package's layering, read from the source with ``ast`` (function-level imports included).

1. The lower layers (everything but ``bntheory.claims``, ``bntheory.experiments``,
   ``bntheory.cli`` and ``bntheory.__main__``) never import claims, experiments or the CLI.
2. No module uses another package's private names: ``from bntheory.x import _y``,
   ``from bntheory.x._y import z``, ``import bntheory.x._y`` or ``mod._y`` where ``mod`` was
   imported from another package. A *package* is a first-level entry of ``bntheory``
   (``bntheory.nets``, ``bntheory.bounds``, ...). ``bntheory._checks``, ``bntheory._io`` and
   ``bntheory.status`` are the package-wide infrastructure every layer is meant to use.

Rule 2 has an explicit allow-list, ``KNOWN``, of the violations present when the test was
written; it must only shrink (a fixed violation still listed is an error too, so the list
stays true).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "bntheory"
UPPER = ("claims", "experiments", "cli", "__main__")
SHARED = {"bntheory._checks", "bntheory._codec", "bntheory._io"}

# Today's cross-package private uses, as (importing module, private name used).
# The lead shrinks this list as the owners give the names a public home; never add to it.
KNOWN: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _package(modname: str) -> str:
    """``bntheory.nets.mlp`` -> ``nets``; ``bntheory`` -> ``""``."""
    parts = modname.split(".")
    return parts[1] if len(parts) > 1 else ""


def _is_pkg(modname: str) -> bool:
    return MODULES.get(modname, Path()).name == "__init__.py"


def _resolve(modname: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = modname.split(".")
    if not _is_pkg(modname):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


_SCANS: dict[tuple[str, Path, float], tuple[list, list]] = {}


def _scan(modname: str) -> tuple[list, list]:
    """``(imports, private attribute accesses)`` of a module, cached by path and mtime."""
    path = MODULES[modname]
    key = (modname, path, path.stat().st_mtime)
    if key not in _SCANS:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        attrs = [
            (node.value.id, node.attr)
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
        _SCANS[key] = (_imports_of(modname, tree), attrs)
    return _SCANS[key]


def _imports(modname: str) -> list[tuple[str, str | None, str | None]]:
    """``(module, imported name or None, local alias)`` for every import in the file."""
    return _scan(modname)[0]


def _imports_of(modname: str, tree: ast.Module) -> list[tuple[str, str | None, str | None]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, None, a.asname or a.name.split(".")[0]))
        elif isinstance(node, ast.ImportFrom):
            mod = _resolve(modname, node)
            for a in node.names:
                out.append((mod, a.name, a.asname or a.name))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.args[0].value, None, None))
    return out


def _targets(mod: str, name: str | None) -> list[str]:
    """The bntheory module(s) an import reaches: ``from a.b import c`` reaches ``a.b`` and,
    when ``c`` is a submodule, ``a.b.c``."""
    if not mod.startswith("bntheory"):
        return []
    out = [mod]
    if name is not None and f"{mod}.{name}" in MODULES:
        out.append(f"{mod}.{name}")
    return out


def _private(path: str) -> bool:
    return any(p.startswith("_") and not p.startswith("__") for p in path.split(".")[1:])


def upward_imports() -> list[tuple[str, str]]:
    bad = []
    for modname in MODULES:
        if _package(modname) in UPPER:
            continue
        for mod, name, _ in _imports(modname):
            for target in _targets(mod, name):
                if _package(target) in UPPER:
                    bad.append((modname, target))
    return sorted(set(bad))


def private_uses() -> set[tuple[str, str]]:
    found = set()
    for modname in MODULES:
        pkg = _package(modname)
        bound: dict[str, str] = {}  # local name -> bntheory module it names
        for mod, name, alias in _imports(modname):
            if not mod.startswith("bntheory"):
                continue
            full = f"{mod}.{name}" if name else mod
            target_mod = full if full in MODULES else mod
            if alias and target_mod in MODULES:
                bound[alias] = target_mod
            if _package(mod) == pkg or target_mod in SHARED or mod in SHARED:
                continue
            if _private(full):
                found.add((modname, full))
        for name, attr in _scan(modname)[1]:
            target = bound.get(name)
            if target is not None and _package(target) != pkg and target not in SHARED:
                found.add((modname, f"{target}.{attr}"))
    return found


def test_modules_found():
    assert "bntheory.measures.spectra" in MODULES and "bntheory.claims.runner" in MODULES
    assert len(MODULES) > 50


def test_lower_layers_never_import_claims_experiments_or_cli():
    bad = upward_imports()
    assert not bad, "lower layers importing claims/experiments/cli:\n" + "\n".join(
        f"  {m} imports {t}" for m, t in bad
    )


def test_no_cross_package_private_names():
    found = private_uses()
    new = sorted(found - KNOWN)
    assert not new, "new cross-package private uses (give the name a public home):\n" + (
        "\n".join(f"  {m} uses {n}" for m, n in new)
    )
    fixed = sorted(KNOWN - found)
    assert not fixed, "fixed violations still in KNOWN (remove them):\n" + "\n".join(
        f"  {m} uses {n}" for m, n in fixed
    )


@pytest.mark.parametrize(
    ("src", "expect_private"),
    [
        ("from bntheory.nets.mlp import _check_int\n", True),
        ("from bntheory.nets import mlp\nmlp._check_int\n", True),
        ("import bntheory.nets._idx\n", True),
        ("from bntheory.nets.mlp import MLP\n", False),
        ("from bntheory._checks import as_int\n", False),
        ("from bntheory.measures import _validation\n", False),  # same package
    ],
)
def test_detector_can_fail(src, expect_private, tmp_path, monkeypatch):
    """The detector flags a planted violation (and only a violation)."""
    fake = ROOT / "measures" / "lanczos.py"
    monkeypatch.setitem(MODULES, "bntheory.measures.lanczos", tmp_path / "m.py")
    (tmp_path / "m.py").write_text(src, encoding="utf-8")
    hits = {n for m, n in private_uses() if m == "bntheory.measures.lanczos"}
    assert bool(hits) is expect_private, hits
    assert fake.exists()


def test_upward_detector_can_fail(tmp_path, monkeypatch):
    monkeypatch.setitem(MODULES, "bntheory.measures.lanczos", tmp_path / "m.py")
    (tmp_path / "m.py").write_text(
        "def f():\n    from bntheory.claims import runner\n", encoding="utf-8"
    )
    assert ("bntheory.measures.lanczos", "bntheory.claims.runner") in upward_imports()
