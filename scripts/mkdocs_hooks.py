"""mkdocs hook: publish each task folder's README (tasks/<family>/README.md) as docs page tasks/<family>.md.

The READMEs stay the single source (lm-eval's convention: a README per task folder).
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

TASKS = Path(__file__).resolve().parents[1] / "xllm_harness" / "tasks"


def on_files(files, config):
    for readme in sorted(TASKS.glob("*/README.md")):
        uri = f"tasks/{readme.parent.name}.md"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=readme.read_text(encoding="utf-8")))
    return files
