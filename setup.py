"""Build glue that pyproject.toml cannot express.

1. Every package under ``xllm_harness/``, namespace packages included (the bundled sample folders hold
   only data).
2. ``xllm_harness_lm_eval.pth`` is written into site-packages: one line that imports the tiny
   ``_xllm_harness_lm_eval_hook`` module, which makes our tasks visible to a bare ``lm_eval`` run.
"""

import warnings
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel
from setuptools.warnings import InformationOnly

PTH_NAME = "xllm_harness_lm_eval.pth"
PTH_LINE = "import _xllm_harness_lm_eval_hook\n"


def _packages() -> list[str]:
    return find_namespace_packages(include=["xllm_harness", "xllm_harness.*"], exclude=["*__pycache__*"])


class BuildPyWithPth(build_py):
    """build_py that also drops the lm-eval hook .pth next to the packages."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / PTH_NAME
        target.write_text(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH_NAME)]


class EditableWheelWithPth(editable_wheel):
    """``pip install -e .`` gets the same .pth (setuptools writes editable wheels from a staging dir)."""

    def _install_namespaces(self, installation_dir, pth_prefix):
        super()._install_namespaces(installation_dir, pth_prefix)
        Path(installation_dir, PTH_NAME).write_text(PTH_LINE)

    def _select_strategy(self, name, tag, build_lib):
        return _WithoutFolderNotice(super()._select_strategy(name, tag, build_lib))


class _WithoutFolderNotice:
    """setuptools' editable strategy without its generic notice that folders named like the package in
    the working directory may shadow it: ours is the package's own source folder (``xllm_harness/``)."""

    def __init__(self, strategy) -> None:
        self.strategy = strategy

    def __call__(self, *args):
        return self.strategy(*args)

    def __enter__(self):
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InformationOnly)
            return self.strategy.__exit__(*exc)


setup(
    packages=_packages(),
    cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth},
)
