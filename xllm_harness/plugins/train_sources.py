"""Built-in instruction-data sources for ``xllm data build`` / ``xllm train``: ``alpaca_*`` and ``translation_*``."""

from xllm_harness.hookspecs import hookimpl
from xllm_harness.trainers.sources import AlpacaSource, TranslationSource


@hookimpl
def xllm_train_sources() -> list:
    return [AlpacaSource(), TranslationSource()]
