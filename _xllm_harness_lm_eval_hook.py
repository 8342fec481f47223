"""Make xllm-harness tasks visible to a bare ``lm_eval`` run (imported by ``xllm_harness_lm_eval.pth``).

Released lm-eval versions have no task entry points, so this installs a tiny import hook that acts
only when ``lm_eval.tasks.manager`` is imported: it then appends the task folders of every registered
xllm-harness plugin to ``TaskManager``'s include paths, and quiets lm-eval's per-run noise
(:func:`xllm_harness.bridge.quiet.install_lm_eval_quieting`). Nothing else is imported at interpreter
start-up. Set ``XLLM_HARNESS_LM_EVAL_HOOK=0`` to switch it off.
"""

import os
import sys

_TARGET = "lm_eval.tasks.manager"


class _TaskManagerHook:
    """Meta-path finder that patches lm-eval's TaskManager right after its module executes."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        sys.meta_path.remove(self)  # one shot: the module is imported once
        import importlib.util

        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return None
        original_exec = spec.loader.exec_module

        def exec_module(module):
            original_exec(module)
            try:
                from xllm_harness.bridge.task_index import on_lm_eval_import

                on_lm_eval_import(module)
            except Exception as err:  # never break lm_eval because of us
                print(f"xllm-harness: lm-eval hook disabled ({type(err).__name__}: {err})", file=sys.stderr)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Install the hook unless switched off or already installed."""
    if os.environ.get("XLLM_HARNESS_LM_EVAL_HOOK", "1").lower() in {"0", "false", "no", "off"}:
        return
    if any(isinstance(f, _TaskManagerHook) for f in sys.meta_path):
        return
    if _TARGET in sys.modules:  # imported before us: patch directly
        from xllm_harness.bridge.task_index import on_lm_eval_import

        on_lm_eval_import(sys.modules[_TARGET])
        return
    sys.meta_path.insert(0, _TaskManagerHook())


install()
