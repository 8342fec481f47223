"""A wheel built from the repo, installed into a fresh venv outside the repo, works; so does a plugin package.

The fresh venv gets the heavy dependencies (torch, lm-eval, ...) from this environment's
site-packages through a plain path line, so nothing is downloaded; xllm-harness itself comes only
from the wheel (importlib.metadata keeps the first distribution of a name on sys.path).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from the repo's files (tracked and not ignored), outside the repo."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, src / rel)
    built = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(root / "dist"),
            str(src),
        ]
    )
    # setuptools' packaging warnings (license format, data folders outside `packages`) have their cause fixed
    assert "Warning" not in built.stdout + built.stderr, built.stdout[-4000:] + built.stderr[-4000:]
    return next((root / "dist").glob("xllm_harness-*.whl"))


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site = next(env_dir.glob("lib/python*/site-packages"))
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(env_dir / "bin" / "python"),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ]
    )
    assert (site / "xllm_harness_lm_eval.pth").exists(), "the lm-eval hook .pth must be in the wheel"
    assert (site / "xllm_harness" / "tasks" / "xquad_xllm" / "_xquad_xllm_yaml").exists()
    assert (site / "xllm_harness" / "data" / "samples" / "xquad" / "xquad.ar.json").exists()
    return env_dir


def test_installed_wheel_and_example_plugin(fresh_venv, tiny_model, samples_dir, tmp_path, subprocess_env):
    python = str(fresh_venv / "bin" / "python")
    where = run(
        [python, "-c", "import xllm_harness; print(xllm_harness.__file__)"], cwd=tmp_path, env=subprocess_env
    )
    assert str(fresh_venv) in where.stdout, "xllm_harness must come from the wheel, not the source tree"

    # the documented example plugin package adds German
    plugin_src = shutil.copytree(
        REPO / "docs" / "example-plugin", tmp_path / "example-plugin"
    )  # build outside the repo
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(plugin_src),
        ],
        cwd=tmp_path,
    )
    plugins = run([python, "-m", "xllm_harness.cli", "plugins"], cwd=tmp_path, env=subprocess_env).stdout
    assert "german  (xllm-example-german: xllm_example_german)  [ok]" in plugins
    assert "languages: de" in plugins and "data_sources: xquad_de" in plugins

    # German XQuAD is not available offline: lay an English sample file out under the plugin's
    # location (plumbing only: the prompt is German, the text English)
    data = tmp_path / "data"
    shutil.copytree(samples_dir / "xquad", data / "xquad")
    (data / "xquad_de").mkdir()
    shutil.copy(samples_dir / "xquad" / "xquad.en.json", data / "xquad_de" / "xquad.de.json")
    subprocess_env["XLLM_DATA_DIR"] = str(data)
    out = run(
        [
            python,
            "-m",
            "lm_eval",
            "--model",
            "hf",
            "--model_args",
            f"pretrained={tiny_model},dtype=float32",
            "--device",
            "cpu",
            "--tasks",
            "xquad_xllm_ar,xquad_xllm_de",
            "--limit",
            "2",
            "--gen_kwargs",
            "max_gen_toks=8",
            "--output_path",
            str(tmp_path / "out"),
            "--log_samples",
        ],
        cwd=tmp_path,
        env=subprocess_env,
    )
    assert "xquad_xllm_de" in out.stdout
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text())["results"]
    for task in ("xquad_xllm_ar", "xquad_xllm_de"):
        assert {"match,none", "exact_match,none", "f1,none"} <= set(results[task])
    sample = json.loads(
        next((tmp_path / "out").rglob("samples_xquad_xllm_de_*.jsonl")).read_text().splitlines()[0]
    )
    assert "Bitte beantworten Sie die Fragen" in sample["arguments"]["gen_args_0"]["arg_0"]


VLLM = "vllm==0.33.0"
"""The newest vLLM that resolves from this registry (0.34.0 pins flashinfer-python 0.7.3, not served here)."""
NO_REGISTRY = ("NewConnectionError", "Could not fetch URL", "Failed to establish a new connection")


@pytest.mark.timeout(1800)
def test_all_extra_resolves_beside_vllm(wheel, tmp_path):
    """``pip install "xllm-harness[all]" vllm==0.33.0`` resolves into one fresh environment: a dry run
    against the package registry (nothing is downloaded beyond metadata, nothing installed). About a
    minute on an idle machine (pip fetches vLLM's and CUDA packages' metadata); 4 minutes under load."""
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--report", str(report), f"{wheel}[all]", VLLM]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=1500)
    if out.returncode and any(sign in out.stderr for sign in NO_REGISTRY):
        pytest.skip(f"the package registry is not reachable: {out.stderr.strip().splitlines()[-1]}")
    assert out.returncode == 0, out.stderr[-4000:]
    resolved = {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert resolved["vllm"] == "0.33.0" and resolved["xllm-harness"] == "0.1.0"
    assert {"lm-eval", "transformers", "torch", "openai"} <= set(resolved), sorted(resolved)
