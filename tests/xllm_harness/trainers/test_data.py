"""The CoIT/MuIT data builder: specs, sources as plugins, directions, allocation files, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xllm_harness.plugins.train_sources import PARAPHRASES
from xllm_harness.train_sources import Example, TrainSource
from xllm_harness.trainers import data


@pytest.fixture(autouse=True)
def _samples(monkeypatch, samples_dir):
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))


def test_parse_spec_items_slices_and_files(tmp_path):
    items = data.parse_spec("alpaca_en+alpaca_zh[10:20]+translation_en-zh[:100000]=/d/a.en,/d/a.zh")
    assert [i.name for i in items] == ["alpaca_en", "alpaca_zh", "translation_en-zh"]
    assert (items[1].start, items[1].end) == (10, 20)
    assert (items[2].start, items[2].end) == (None, 100000)
    assert items[2].paths == (Path("/d/a.en"), Path("/d/a.zh"))
    with pytest.raises(ValueError, match=r"'alpaca' in 'alpaca_en\+alpaca'.*KIND_ARG"):
        data.parse_spec("alpaca_en+alpaca")
    with pytest.raises(ValueError, match=r"unknown kind 'dolly'.*alpaca, translation"):
        data.build("dolly_en")


def test_counts_and_seeded_shuffle():
    a = data.build("alpaca_en[:30]+alpaca_zh[:20]+translation_en-ar[:25]", seed=1)
    assert a.counts == {"alpaca_en": 30, "alpaca_zh": 20, "translation_en-ar": 25}
    again = data.build("alpaca_en[:30]+alpaca_zh[:20]+translation_en-ar[:25]", seed=1)
    other = data.build("alpaca_en[:30]+alpaca_zh[:20]+translation_en-ar[:25]", seed=2)
    assert a.examples == again.examples
    assert a.examples != other.examples and sorted(map(repr, a.examples)) == sorted(map(repr, other.examples))
    summary = a.summary()
    assert "alpaca_zh" in summary and "20" in summary and "total" in summary


def test_translation_directions_and_instructions(samples_dir):
    en_x = data.build("translation_ar[:6]", shuffle=False).examples
    assert {e.source for e in en_x} == {"translation_en-ar"}  # English→X by default
    en_lines = (samples_dir / "parallel" / "en-ar.en").read_text(encoding="utf-8").split("\n")
    assert en_x[0].input == en_lines[0].strip()
    assert en_x[0].instruction == "Translate the following sentences from English to Arabic."
    # paraphrases rotate over the examples
    assert [e.instruction for e in en_x[:3]] == [
        p.format(source="English", target="Arabic") for p in PARAPHRASES[:3]
    ]
    x_en = data.build("translation_ar[:6]", direction="x-en", shuffle=False).examples
    assert {e.source for e in x_en} == {"translation_ar-en"}
    assert x_en[0].input == en_x[0].output and x_en[0].output == en_x[0].input
    both = data.build("translation_ar[:6]", direction="both", shuffle=False)
    assert both.counts == {"translation_en-ar": 3, "translation_ar-en": 3}  # N examples = N/2 pairs × 2
    explicit = data.build("translation_ar-en[:4]", shuffle=False).examples  # files found in either order
    assert {e.source for e in explicit} == {"translation_ar-en"}
    fixed = data.build("translation_en-el[:30]", instructions="test", shuffle=False).examples
    assert {e.instruction for e in fixed} == {"Translate the following sentences from English to Greek."}
    iso = data.build("translation_en-el[:1]", instructions="test", language_names="iso639").examples
    assert iso[0].instruction == "Translate the following sentences from English to Modern Greek (1453-)."


def test_allocation_file_adds_translation_items(tmp_path):
    alloc = tmp_path / "alloc.json"
    alloc.write_text(json.dumps({"budget": 30, "allocation": {"ar": 10, "el": 20}}))
    built = data.build("alpaca_en[:5]", allocation=alloc)
    assert built.counts == {"alpaca_en": 5, "translation_en-ar": 10, "translation_en-el": 20}
    assert any("budget 30" in note for note in built.notes)
    x_en = data.build(None, allocation=alloc, direction="x-en")
    assert x_en.counts == {"translation_ar-en": 10, "translation_el-en": 20}
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"budget": 1000, "allocation": {"vi": 1000}}))
    built = data.build(None, allocation=short)
    assert built.counts == {"translation_en-vi": 300}  # the sample has 300 lines
    assert any("only 300 available" in note for note in built.notes)


def test_malformed_records_are_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "alpaca_xx.json"
    bad.write_text(
        "[\n"
        '  {"instruction": "ok", "input": "", "output": "fine"},\n'
        '  {"instruction": "no output", "input": ""},\n'
        '  "just a string",\n'
        '  {"instruction": "fine too", "output": "yes"}\n'
        "]\n",
        encoding="utf-8",
    )
    built = data.build(f"alpaca_xx={bad}")
    assert built.counts == {"alpaca_xx": 2}
    assert [(p.line, p.path) for p in built.problems] == [(3, str(bad)), (4, str(bad))]
    assert "output" in built.problems[0].message and f"{bad}:3:" in str(built.problems[0])
    assert f"{bad}:4:" in built.summary()

    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text(
        '{"instruction": "a", "output": "b"}\n\n{"instruction": 3, "output": "b"}\n', encoding="utf-8"
    )
    built = data.build(f"alpaca_yy={jsonl}")
    assert built.counts == {"alpaca_yy": 1} and built.problems[0].line == 3

    broken = tmp_path / "broken.json"
    broken.write_text(
        '[\n{"instruction": "a", "output": "b"},\n{"instruction": "a" "output"}\n]', encoding="utf-8"
    )
    with pytest.raises(ValueError, match=rf"{broken}:3: not valid JSON"):
        data.build(f"alpaca_zz={broken}")


def test_parallel_files_errors(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n\nfour\n", encoding="utf-8")
    (tmp_path / "a.ar").write_text("واحد\nاثنان\nثلاثة\nأربعة\n", encoding="utf-8")
    built = data.build(f"translation_en-ar={tmp_path / 'a.en'},{tmp_path / 'a.ar'}")
    assert built.counts == {"translation_en-ar": 3}
    assert [str(p) for p in built.problems] == [f"{tmp_path / 'a.en'}:3: empty sentence; pair skipped"]
    (tmp_path / "b.ar").write_text("واحد\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"not line-aligned: .*a.en has 4 lines, .*b.ar has 1"):
        data.build(f"translation_en-ar={tmp_path / 'a.en'},{tmp_path / 'b.ar'}")
    with pytest.raises(
        FileNotFoundError,
        match=r"No parallel en-hi data.*parallel/en-hi.en.*translation_en-hi=SRC_FILE,TGT_FILE",
    ):
        data.build("translation_hi")
    with pytest.raises(FileNotFoundError, match=r"alpaca/alpaca_tr.json is missing"):
        data.build("alpaca_tr")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.build(f"alpaca_en={tmp_path / 'nope.json'}")
    with pytest.raises(KeyError, match="Unknown language 'qq'"):
        data.build(f"translation_en-qq={tmp_path / 'a.en'},{tmp_path / 'a.ar'}")


class _Echo(TrainSource):
    kind = "echo"
    description = "test source"

    def load(self, arg, paths, options):
        return [Example(f"say {arg} {i}", "", f"{arg} {i}", f"echo_{arg}") for i in range(5)]


class _EchoPlugin:
    from xllm_harness.hookspecs import hookimpl

    @hookimpl
    def xllm_train_sources(self):
        return [_Echo()]


def test_a_plugin_adds_a_source_kind():
    from xllm_harness.registry import _collect, get_registry

    registry = get_registry()
    plugin = _EchoPlugin()
    registry.register(plugin, name="echo-test")
    try:
        built = data.build("echo_hi[:3]+alpaca_en[:2]")
        assert built.counts == {"echo_hi": 3, "alpaca_en": 2}
    finally:
        registry.pm.unregister(plugin)
        _collect.cache_clear()
    assert "echo" not in data.get_train_sources()


def test_xllm_data_build_command_and_jsonl_roundtrip(tmp_path, capsys):
    from xllm_harness.cli import main

    records = [{"instruction": f"Say {i}.", "output": str(i)} for i in range(45)]
    records.insert(43, {"instruction": "Say nothing.", "output": ""})  # line 44, beyond the slice
    alpaca = tmp_path / "alpaca.jsonl"
    alpaca.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    spec = f"alpaca_en[:40]={alpaca}+translation_en-vi[:10]"
    out = tmp_path / "coit.jsonl"
    assert main(["data", "build", spec, "-o", str(out), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "alpaca_en" in printed and "40" in printed and "translation_en-vi" in printed
    assert f"{alpaca}:44: field(s) output" in printed  # the whole file is checked, then sliced
    examples = data.read_jsonl(out)
    assert examples == data.build(spec, seed=3).examples
    assert main(["data", "build", "alpaca_en+nonsense", "-o", str(out)]) == 2
    assert "nonsense" in capsys.readouterr().err


@pytest.mark.shared_data
def test_full_shared_files(shared_data):
    alpaca = shared_data / "alpaca" / "alpaca_data.json"
    zh = shared_data / "alpaca" / "translated_zh"
    par = shared_data / "parallel" / "en-zh.newstest2020"
    spec = (
        f"alpaca_en={alpaca}+alpaca_zh={zh / 'zh-data-part-00.json'},{zh / 'zh-data-part-01.json'}"
        f"+translation_en-zh[:1000]={par}.eng,{par}.zho"
    )
    built = data.build(spec)
    problems_en = [p for p in built.problems if p.path == str(alpaca)]
    assert built.counts["alpaca_en"] == 52002 - len(problems_en)
    assert all("output" in p.message for p in problems_en)
    assert built.counts["alpaca_zh"] + len(built.problems) - len(problems_en) == 10021 + 10444
    assert built.counts["translation_en-zh"] == 1000


def test_summary_warns_when_max_length_drops_more_than_half_and_lists_a_few_malformed():
    from xllm_harness.train_sources import Problem

    counts = {"a": 10, "b": 10}
    kept = data.summary(counts, truncated={"a": 1}, dropped={"a": 10}, max_length=64)  # exactly half
    assert "warning" not in kept
    lost = data.summary(counts, truncated={}, dropped={"a": 10, "b": 1}, max_length=64)
    assert "warning: --max-length 64 drops 11 of the 20 examples (more than half)" in lost
    problems = [Problem("f.jsonl", line, "not JSON") for line in range(1, 1001)]
    text = data.summary(counts, problems)
    assert "1000 malformed record(s) skipped, the first 5:" in text
    assert "  f.jsonl:5: not JSON" in text and "f.jsonl:6:" not in text and "... and 995 more" in text
    assert len(text.splitlines()) < 15
