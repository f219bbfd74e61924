"""The optional compiled packet path (homeguard/compiled.py, setup.py): what is declared
exists, what is compiled is recognised, and the build asks for mypyc only when it
compiles. scripts/compiled_suite.py builds it for real and runs the packet path's tests
against it (CI does, after this suite)."""

from __future__ import annotations

import importlib
import importlib.machinery
import runpy
from pathlib import Path

import pytest

from homeguard.compiled import COMPILED_SOURCES, compilable_modules, compiled_modules

ROOT = Path(__file__).resolve().parent.parent


def test_every_declared_pattern_names_modules_that_import() -> None:
    for pattern in COMPILED_SOURCES:  # a mistyped pattern would compile nothing, silently
        assert list(ROOT.glob(pattern)), f"{pattern} matches no file"
    names = compilable_modules(ROOT)
    assert "homeguard.pipeline.core" in names and "homeguard.decode" in names  # a package by its name
    for name in names:
        assert importlib.import_module(name).__name__ == name


def test_extension_modules_are_named_as_python_imports_them(tmp_path: Path) -> None:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    package = tmp_path / "homeguard"
    for name in [
        f"decode/dns{suffix}",
        f"decode/__init__{suffix}",
        "decode/tls.py",
        f"core{suffix}",
        "x.so.txt",
    ]:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_bytes(b"")
    assert compiled_modules(package) == ["homeguard.core", "homeguard.decode", "homeguard.decode.dns"]
    assert compiled_modules(ROOT / "tests" / "samples") == []


@pytest.mark.parametrize(("setting", "compiler"), [(None, False), ("0", False), ("1", True)])
def test_the_build_asks_for_mypy_only_when_it_compiles(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, compiler: bool
) -> None:
    if setting is None:
        monkeypatch.delenv("HOMEGUARD_COMPILE", raising=False)
    else:
        monkeypatch.setenv("HOMEGUARD_COMPILE", setting)
    backend = runpy.run_path(str(ROOT / "build_backend" / "homeguard_build.py"))
    for hook in ("get_requires_for_build_wheel", "get_requires_for_build_editable"):
        requires = backend[hook]()
        assert any(r.startswith("mypy") for r in requires) is compiler, (hook, requires)
        # mypyc type-checks what it compiles: the dependencies' types must be there
        assert ("pyyaml>=6.0" in requires and "types-PyYAML" in requires) is compiler
    assert "build_wheel" in backend and "build_editable" in backend and "build_sdist" in backend


def test_doctor_says_whether_the_packet_path_runs_compiled() -> None:
    from homeguard.service.doctor import check_packet_path

    declared = ["homeguard.decode", "homeguard.pipeline.core", "homeguard.rules.engine"]
    pure = check_packet_path(declared, [])
    assert (pure.status, pure.summary) == ("NOTE", "The packet path runs as pure Python.")
    assert "HOMEGUARD_COMPILE=1" in pure.advice
    whole = check_packet_path(declared, [*declared, "homeguard.other"])
    assert (whole.status, whole.summary) == ("OK", "The packet path runs compiled (3 modules, mypyc).")
    part = check_packet_path(declared, declared[:2])
    assert part.status == "PROBLEM" and part.summary.startswith("Only 2 of the 3 modules")
    assert part.figures == ["not compiled: homeguard.rules.engine"]


# Calls a slice's bounds may make: mypyc 2.4 evaluates a bound twice when the sliced
# object is not a list, str or bytes (a memoryview, a bytearray, Any), so a bound must
# not do anything twice. These only compute.
PURE_CALLS = {"len", "min", "max", "int", "abs", "index", "find", "rfind"}


def test_no_slice_bound_in_a_compiled_module_acts() -> None:
    """A slice bound that calls anything else (os.write, a read, a pop) would act twice
    once compiled: channel.send wrote every batch twice that way."""
    import ast

    acting = []
    for pattern in COMPILED_SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Slice):
                    continue
                for bound in (node.lower, node.upper, node.step):
                    for call in ast.walk(bound) if bound is not None else ():
                        if isinstance(call, ast.Call):
                            func = call.func
                            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                            if name not in PURE_CALLS:
                                acting.append(f"{path.relative_to(ROOT)}:{call.lineno}: {ast.unparse(call)}")
    assert acting == [], "compute the bound first, on a line of its own:\n" + "\n".join(acting)
