"""The build, for what pyproject.toml cannot declare: with HOMEGUARD_COMPILE=1 in the
environment, the packet path (homeguard/compiled.py) is compiled to C with mypyc.
Without it the package is pure Python, as it always was."""

import os
import runpy
import shutil
from glob import glob

from setuptools import setup

# setuptools packs whatever build/lib holds, so an extension module left there by an
# earlier compiled build would ship again, and load before its .py: start clean.
shutil.rmtree("build", ignore_errors=True)

ext_modules = []
if os.environ.get("HOMEGUARD_COMPILE") == "1":
    try:
        from mypyc.build import mypycify  # in the build's requirements: build_backend/homeguard_build.py
    except ImportError:
        raise SystemExit(
            "HOMEGUARD_COMPILE=1 needs mypyc, which comes with mypy: pip installs it itself "
            "unless --no-build-isolation is given; then install first what "
            "build_backend/homeguard_build.py asks for (COMPILER, STUBS)."
        ) from None

    declared = runpy.run_path("homeguard/compiled.py")["COMPILED_SOURCES"]
    sources = sorted({path for pattern in declared for path in glob(pattern)})
    ext_modules = mypycify(sources, opt_level="3")

setup(ext_modules=ext_modules)
