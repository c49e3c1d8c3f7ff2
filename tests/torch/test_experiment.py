"""The torch_bn_modes experiment: quick mode writes strict-JSON data + PDF + PNG, passes its
check, replots without recomputing; the check fails on tampered data; without torch the
script exits with the one-line reason."""

from __future__ import annotations

import copy
import importlib
import json
import math
import sys

import pytest

torch = pytest.importorskip("torch", reason="bntheory[torch] extra not installed")
pytest.importorskip("sklearn")  # the digits data set (optional extra bntheory[data])

NAME = "torch_bn_modes"


def _reject(token):
    raise ValueError(f"non-finite number {token} in a data file")


def _floats(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _floats(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _floats(v)
    elif isinstance(obj, float):
        yield obj


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    mod = importlib.import_module(f"bntheory.experiments.{NAME}")
    out = tmp_path_factory.mktemp(NAME)
    code = mod.main(["--quick", "--out", str(out), "--seed", "0"])
    data = json.loads((out / "data" / f"{NAME}.json").read_text(), parse_constant=_reject)
    return mod, out, code, data


@pytest.mark.slow
def test_quick_run_writes_checked_data_and_figures(quick):
    mod, out, code, data = quick
    assert code == 0
    assert (out / f"{NAME}.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / f"{NAME}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(math.isfinite(x) for x in _floats(data))
    assert data["meta"]["quick"] is True and data["meta"]["name"] == NAME
    ok, msg = mod.CHECK(data)
    assert ok, msg
    r = data["results"]["after"]
    assert set(r["train"]["layers"]) == {"inp", "block.0", "block.3", "head"}


@pytest.mark.slow
def test_replot_without_recompute(quick, monkeypatch):
    mod, out, _, _ = quick
    (out / f"{NAME}.png").unlink()

    def no_compute(*args, **kwargs):
        raise AssertionError("--replot must not recompute")

    monkeypatch.setattr(mod, "compute", no_compute)
    assert mod.main(["--replot", "--out", str(out)]) == 0
    assert (out / f"{NAME}.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("tamper", ["layer", "ritz", "accuracy"])
def test_check_fails_on_tampered_data(quick, tamper):
    mod, _, _, data = quick
    d = copy.deepcopy(data)
    r = d["results"]["after"]["eval"]
    if tamper == "layer":  # a block above the whole Hessian violates Cauchy interlacing
        r["layers"]["head"]["lambda_max"] = 1.01 * r["top"][0]
    elif tamper == "ritz":
        r["slq"]["nodes"][0][-1] = 1.01 * r["top"][0]
    else:
        d["accuracy"]["after"] = d["accuracy"]["before"]
    assert not mod.CHECK(d)[0]


def test_missing_torch_exits_with_the_reason(monkeypatch, tmp_path):
    mod = importlib.import_module(f"bntheory.experiments.{NAME}")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch -> ImportError
    with pytest.raises(SystemExit, match=r"torch_bn_modes: .*pip install 'bntheory\[torch\]'"):
        mod.compute(True, 0)
