"""Official sources of the paper's evaluation data, with pinned sha256."""

from xllm_harness.data import DataSource, RemoteFile
from xllm_harness.hookspecs import hookimpl

# Published checksums: TensorFlow Datasets' url_checksums/xquad.txt.
XQUAD_SHA256 = {
    "ar": "abdabd7afed5c635d99cca0f3f0d0c9d9ed0bc77451e963c2e4e0638c29e486d",
    "el": "821cf0f88e73fa258fd2f548b19b6ec39f7025059e16f6f9fc8cd797c9c3663e",
    "en": "e4c57d1c9143aaa1c5d265ba5987a65f4e69528d2a98f29d6e75019b10344f29",
    "hi": "df2cce3532b37e9beb8979704b5c9a4bf874358f105395a298b89427b43b9d24",
    "tr": "92179a564774b7696100d144c1e10870d0a966b6fccbdd254a65b9d2ab1971cc",
    "vi": "f619a1eb11fb42d3ab0834259e488a65f585447ef6154437bfb7199d85161a04",
    "zh": "691d0b3359bc6b8faa8de931dfdfe21d50a65861ae348e32a0d1a0190b0c8835",
}
XQUAD = DataSource(
    name="xquad",
    description="XQuAD (Artetxe et al. 2020): 1190 SQuAD v1.1 questions in each language",
    files=tuple(
        RemoteFile(url=f"https://github.com/deepmind/xquad/raw/master/xquad.{lang}.json", sha256=sha)
        for lang, sha in XQUAD_SHA256.items()
    ),
    license="CC BY-SA 4.0",
)
MLQA = DataSource(
    name="mlqa",
    description="MLQA v1 (Lewis et al. 2020) dev and test, SQuAD v1.1 JSON per context/question language",
    files=(
        RemoteFile(
            url="https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip",
            sha256="246e8089933d13007fe80684d5c5c0713d6834cf8b3b4a0ec7c66f0a0d2baac8",
            extract=True,
            strip_components=1,
            members=("dev", "test"),
        ),
    ),
    license="CC BY-SA 3.0",
)
FLORES101 = DataSource(
    name="flores101",
    description="FLORES-101 dev (997) and devtest (1012) sentences, multi-way parallel",
    files=(
        RemoteFile(
            url="https://dl.fbaipublicfiles.com/flores101/dataset/flores101_dataset.tar.gz",
            sha256="49fa80207b09fcc0eca8253ed13303b3a0ae0f16081af862601c73ac76f2cba6",
            extract=True,
            strip_components=1,
            members=("dev", "devtest"),
        ),
    ),
    license="CC BY-SA 4.0",
    checksum_note="No official checksum is published; the pinned one comes from a third-party record.",
)


@hookimpl
def xllm_data_sources() -> list[DataSource]:
    return [XQUAD, MLQA, FLORES101]
