"""The Chinese catalogue (locale/zh_Hans): it compiles, and no translation loses or invents a placeholder."""

import re
import shutil
import subprocess
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Python-format placeholders, %(name)s / %(n)d, and a bare %s / %d.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(lines: list[str]) -> str:
    text = "".join(re.fullmatch(r'\s*"(.*)"\s*', line).group(1) for line in lines)
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text)


def entries() -> list[dict]:
    """Each entry of the catalogue: its flags, msgid (and plural) and translations."""
    found = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": "", "msgstr": []}
        key = None
        parts: dict[str, list[str]] = {}
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                parts[key].append(line)
            else:
                key, _, rest = line.partition(" ")
                parts[key] = [rest]
        if "msgid" not in parts:
            continue
        entry["msgid"] = _unquote(parts["msgid"])
        entry["msgid_plural"] = _unquote(parts["msgid_plural"]) if "msgid_plural" in parts else None
        entry["msgstr"] = [_unquote(v) for k, v in parts.items() if k.startswith("msgstr")]
        if entry["msgid"]:
            found.append(entry)
    return found


def test_the_catalogue_compiles(tmp_path):
    msgfmt = shutil.which("msgfmt") or "/usr/bin/msgfmt"
    result = subprocess.run(  # noqa: S603 - the project's own catalogue
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "django.mo").stat().st_size > 10_000


def test_every_translation_keeps_the_placeholders_of_its_msgid():
    wrong = []
    for entry in entries():
        expected = sorted(PLACEHOLDER.findall(entry["msgid"]))
        for translated in entry["msgstr"]:
            if translated and sorted(PLACEHOLDER.findall(translated)) != expected:
                wrong.append((entry["msgid"], translated))
    assert wrong == []


def test_every_msgid_is_translated():
    untranslated = [e["msgid"] for e in entries() if not e["msgstr"] or any(not s.strip() for s in e["msgstr"])]
    assert untranslated == []


def test_no_entry_is_fuzzy_or_a_copy_of_the_english():
    found = entries()
    assert len(found) > 300
    assert [e["msgid"] for e in found if "fuzzy" in e["flags"]] == []
    copied = [e["msgid"] for e in found if any(s.strip() and s == e["msgid"] for s in e["msgstr"])]
    assert copied == []


def test_the_clinical_vocabulary_is_there():
    translated = {e["msgid"]: e["msgstr"][0] for e in entries()}
    assert translated["Complete response"] == "完全缓解（CR）"
    assert translated["Partial response"] == "部分缓解（PR）"
    assert translated["HLH improvement"] == "HLH改善"
    assert translated["No response"] == "无反应"
    assert translated["Progressive disease"] == "疾病进展"
    assert translated["Relapse"] == "复发"
    assert translated["Adverse events"] == "不良事件"
    assert translated["Serious adverse event"] == "严重不良事件"
    assert translated["Ferritin"] == "铁蛋白"
    assert translated["Soluble CD25 (sIL-2R)"].startswith("可溶性CD25")
    assert "芦可替尼" in translated["Relationship to RUX"]
    study = translated["Ruxolitinib for children with hemophagocytic lymphohistiocytosis (HLH)"]
    assert "芦可替尼" in study and "噬血细胞性淋巴组织细胞增生症" in study


def test_the_placeholder_check_catches_a_lost_placeholder():
    # The check itself: a translation that drops %(limit)s is found.
    msgid = "%(label)s must be at most %(limit)s %(unit)s (entered %(value)s)."
    assert sorted(PLACEHOLDER.findall("%(label)s不得高于（录入值：%(value)s）")) != sorted(PLACEHOLDER.findall(msgid))
