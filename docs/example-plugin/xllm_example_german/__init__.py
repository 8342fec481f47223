"""An xllm-harness plugin that adds German.

Registering the language is enough: the task families then exist for it (``xquad_xllm_de``,
``mlqa_xllm_de``, and the FLORES directions once that family is installed), in every route.
"""

from xllm_harness.data import DataSource, RemoteFile
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language

GERMAN = Language(
    code="de",
    name="German",
    iso639_name="German",
    qa_instruction="Bitte beantworten Sie die Fragen anhand der folgenden Absätze",
    qa_template="Absatz: {context}\nFrage: {question}\nAntwort: ",
    qa_normalization="mlqa",  # the official MLQA script knows German articles
    xquad="xquad_de/xquad.de.json",  # first path component = the data source that fetches it
    mlqa="mlqa/test/test-context-de-question-de.json",  # the built-in MLQA archive has German
    flores="flores101/{split}/deu.{split}",  # so does FLORES-101
)

XQUAD_DE = DataSource(
    name="xquad_de",
    description="XQuAD German (1190 questions)",
    files=(
        RemoteFile(
            url="https://github.com/deepmind/xquad/raw/master/xquad.de.json",
            sha256="990b5d746746ed65ed4702ea5f35f99ffa4e2f1c390c07d003642acd937916f9",
        ),
    ),
    license="CC BY-SA 4.0",
)


@hookimpl
def xllm_languages():
    return [GERMAN]


@hookimpl
def xllm_data_sources():
    return [XQUAD_DE]
