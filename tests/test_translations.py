"""The Chinese edition's catalogs (locales/zh_CN/LC_MESSAGES, tools/translations.py).

- every English message has a translation, none is fuzzy or obsolete, and the
  catalogs match the English source as it is now (the messages are extracted
  afresh): a changed English paragraph fails here until its translation is
  updated;
- the glossary's terms are used consistently: where a message uses a glossary
  term, its translation uses the glossary's Chinese term;
- the logic behind both, on small made-up catalogs.

What the built Chinese pages show (no English left, the edition switch, search)
is checked in tests/test_html.py and tests/test_browser.py.
"""

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

import translations
from bookinfo import BOOK, EDITIONS

ZH = EDITIONS["zh"].language  # these are the Chinese catalogs' tests: zh_CN

REPAIR = ("update the catalogs with `.venv/bin/python tools/translations.py update`, "
          "translate what it lists (`... status`), remove the fuzzy marks, and check "
          "with `... check`")

# Glossary terms that a message uses in another sense, where the glossary's Chinese
# term would be wrong: (English term, a phrase of the message) -> why.
POOLING_WINDOW = "a pooling window's size is called kernel_size; 窗口, not 卷积核"
COMPUTE_KERNEL = "a compute kernel (a routine PyTorch runs), 计算内核, not 卷积核"
TERM_EXCEPTIONS = {
    ("kernel", "it defaults to the kernel size"): POOLING_WINDOW,
    ("kernel", "stride equal to the kernel size"): POOLING_WINDOW,
    ("kernel", "default stride equal to the kernel size"): POOLING_WINDOW,
    ("kernel", "instead of a kernel size"): POOLING_WINDOW,
    ("kernel", "So do the kernels PyTorch picks"): COMPUTE_KERNEL,
    ("kernel", "lasts until the kernel restarts"): "Jupyter's kernel, 内核",
    ("kernel", "only in kernel memory"): "Jupyter's kernel, 内核",
    ("kernel", "without a kernel"): "Jupyter's kernel, 内核",
    ("kernel", "Scratch memory inside a kernel"): COMPUTE_KERNEL,
    ("kernel", "runs the same kernels"): COMPUTE_KERNEL,
    ("kernel", "or GPU kernels"): COMPUTE_KERNEL,
    ("kernel", "the AVX2 kernels of PyTorch"): COMPUTE_KERNEL,
    ("kernel", "the first call reads"): "a lazy layer's weight, not a kernel: "
    "the message mentions nn.LazyLinear's kernel-free weight",
    ("gain", "Stacking linear layers alone gains nothing"): "the verb, not the "
    "init gain",
    ("shortcut", "two tempting shortcuts"): "an easy way out, not a residual path",
    ("guard", "agree guards against pairing"): "the verb, not torch.compile's guard",
    ("guard", "Registration also guards you"): "the verb, not torch.compile's guard",
    ("module", "4. Inside nn.Module"): "the class name in the chapter title",
    ("module", "Module by Module"): "the book's name, which stays English",
    ("label smoothing", "cross-entropy label smoothing"): "a figure's axis label: "
    "(label_smoothing={0}), the keyword argument, code",
}


@pytest.fixture(scope="session")
def pot_dir(tmp_path_factory):
    """The English messages as they are now, extracted into a fresh folder."""
    out = tmp_path_factory.mktemp("gettext") / "gettext"
    assert translations.extract(out) == 0, "the gettext build failed"
    return out


def test_catalogs_match_the_english_source(pot_dir):
    found = translations.problems(ZH, pot_dir)
    lines = [f"{name}: {kind}: {msgid[:90]!r}" for name, kind, msgid in found]
    assert not found, f"{len(found)} catalog problem(s):\n" + "\n".join(
        lines[:40]) + f"\n\n{REPAIR}"


def test_translations_keep_what_is_not_words():
    """Each translation carries its English message's inline code, math, link
    targets and numbers, and leaves no English phrase in (titles quoted from
    the English and translations.ENGLISH_KEPT aside)."""
    found = [(page, problem, message.id)
             for page in translations.page_catalogs(ZH)
             for message in translations.read_catalog(ZH, page)
             if message.id and message.string
             for problem in translations.content_problems(message.id,
                                                          message.string)]
    lines = [f"{page}: {problem} in {msgid[:70]!r}" for page, problem, msgid in found]
    assert not found, f"{len(found)} translation problem(s):\n" + "\n".join(
        lines[:40])


@pytest.mark.parametrize("msgid, msgstr, problem", [
    ("LeNet has 62,006 parameters.", "LeNet 共有 62,060 个参数。", "number 62,006"),
    ("Call `model.eval()` first.", "先调用 `model.train()`。", "code '`model.eval()`'"),
    ("Here $n_\\text{in}$ is the fan-in.", "这里 $n$ 是扇入。", "math"),
    ("See [chapter 2](02_lenet.ipynb).", "见[第 2 章](02_lenet.md)。", "link target"),
    ("A layer has weights.", "一个层有权重。A layer has weights and biases.",
     "English left"),
    ("The layer keeps its weights and biases.",
     "The layer keeps its weights and biases.", "English left"),
])
def test_content_rule_catches(msgid, msgstr, problem):
    assert any(p.startswith(problem) for p in
               translations.content_problems(msgid, msgstr)), (msgid, msgstr)


def test_content_rule_passes_faithful_translations():
    assert translations.content_problems(
        "He et al., *Deep Residual Learning for Image Recognition*, 2016: "
        "`x + F(x)` at $L = 152$; see {ref}`the index <genindex>`.",
        "He 等人，*Deep Residual Learning for Image Recognition*，2016："
        "层数 $L = 152$ 时的 `x + F(x)`；见{ref}`索引 <genindex>`。") == []


def glossary_terms():
    """[(English forms, Chinese forms)] from book/glossary.md's table.

    "kernel (filter)" | "卷积核（滤波器）" gives (["kernel", "filter"], ["卷积核",
    "滤波器"]); "fan-in / fan-out" | "扇入 / 扇出" gives one pair per side. Forms in
    code (`nn.Module`) are left out: code is not translated."""
    pairs = []
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("English", "---"):
            continue
        english, chinese = cells[0].split(" / "), cells[1].split(" / ")
        if len(english) != len(chinese):
            english, chinese = [cells[0]], [cells[1]]
        for en, zh in zip(english, chinese, strict=True):
            en_forms = [f for f in alternatives(en, "()") if "`" not in f]
            zh_forms = [part for form in alternatives(zh, "（）")
                        for part in re.split("[、，,]", form)]
            if en_forms:
                pairs.append((en_forms, zh_forms))
    return pairs


def alternatives(term, brackets):
    """A glossary term's forms: "kernel (filter)" -> ["kernel", "filter"];
    "Xavier (Glorot) initialization" -> ["Xavier initialization", "Glorot
    initialization"] (what follows the brackets belongs to both)."""
    opening, closing = brackets
    match = re.fullmatch(rf"(.*?)\s*[{opening}(](.*?)[{closing})]\s*(.*)", term)
    if not match:
        return [term.strip()]
    before, inside, after = (part.strip() for part in match.groups())
    joiner = " " if after[:1].isascii() else ""
    return [f"{before}{joiner}{after}".strip(), f"{inside}{joiner}{after}".strip()]


def term_pattern(form):
    """A glossary form as a whole word, in any case, singular or plural."""
    words = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", form))
    # not inside a dotted name such as torch.compile
    return re.compile(rf"(?<![\w.-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


def inconsistent_terms(messages, terms):
    """(term, msgid) for each message that uses a glossary term in English but
    none of the term's Chinese forms in its translation."""
    found = []
    for message in messages:
        if not message.id or not message.string:
            continue
        words = translations.plain(message.id)
        # *叶子*张量 is 叶子张量, Xavier 初始化 is Xavier初始化, and so is
        # Xavier（Glorot）初始化
        chinese = re.sub(r"[*_\s]", "", message.string)
        chinese += " " + re.sub(r"（[^）]*）", "", chinese)
        for en_forms, zh_forms in terms:
            if any(term_pattern(f).search(words) for f in en_forms) and not any(
                    re.sub(r"\s", "", f) in chinese for f in zh_forms):
                if not any(term == en_forms[0] and phrase in words
                           for term, phrase in TERM_EXCEPTIONS):
                    found.append((en_forms[0], message.id))
    return found


def test_glossary_terms_are_used_consistently():
    terms = glossary_terms()
    assert len(terms) > 50, "the glossary table was not read"
    found = []
    for page in translations.page_catalogs(ZH):
        if page == "book/glossary":  # defines the terms; its English column stays
            continue
        found += [(page, term, msgid) for term, msgid in
                  inconsistent_terms(translations.read_catalog(ZH, page), terms)]
    lines = [f"{page}: {term!r} in {translations.plain(msgid)[:80]!r}"
             for page, term, msgid in found]
    assert not found, (f"{len(found)} message(s) use a glossary term without its "
                       "Chinese term (fix the translation, or add the case to "
                       "TERM_EXCEPTIONS with the reason):\n" + "\n".join(lines))


def test_glossary_rule_on_examples():
    assert alternatives("kernel (filter)", "()") == ["kernel", "filter"]
    assert alternatives("Xavier (Glorot) initialization", "()") == [
        "Xavier initialization", "Glorot initialization"]
    assert alternatives("池化层（汇聚层）", "（）") == ["池化层", "汇聚层"]
    terms = [(["kernel", "filter"], ["卷积核", "滤波器"]), (["stride"], ["步幅"]),
             (["Xavier initialization", "Glorot initialization"],
              ["Xavier初始化", "Glorot初始化"])]
    catalog = Catalog(locale=ZH)
    catalog.add("Each kernel slides with a stride of 2.", "每个卷积核以步幅 2 滑动。")
    catalog.add("Three filters, `stride=2`.", "三个滤波器，`stride=2`。")
    catalog.add("The kernels move.", "核在移动。")  # the term is missing
    catalog.add("A kernelized method.", "核方法。")  # not the word "kernel"
    catalog.add("Glorot initialization.", "Xavier（Glorot）初始化。")
    assert [msgid for _, msgid in inconsistent_terms(catalog, terms)] == [
        "The kernels move."]


def _write(path, messages, fuzzy=()):
    catalog = Catalog(locale=ZH, fuzzy=False)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr, flags=["fuzzy"] if msgid in fuzzy else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog)


def test_a_changed_paragraph_fails_until_translated(tmp_path, monkeypatch):
    """The English of a page changes: the check fails (new text, old translation
    obsolete); `update` keeps the old translation as a fuzzy guess, which still
    fails; a translator fixes it and clears the mark: the check passes."""
    pot, locales = tmp_path / "gettext", tmp_path / "locales"
    monkeypatch.setattr(translations, "LOCALES", locales)
    locales = locales / ZH / "LC_MESSAGES"
    _write(pot / "sphinx.pot", {"Contents": ""})
    for frame in translations.FRAME:
        _write(locales / f"{frame}.po", {"Contents": "目录"})
    _write(pot / "book" / "page.pot", {"Title": "", "A layer has many weights.": ""})
    _write(locales / "book" / "page.po",
           {"Title": "标题", "A layer has weights.": "一个层有权重。"})

    kinds = {(kind, msgid) for _, kind, msgid in translations.problems(ZH, pot)}
    assert kinds == {("not in catalog", "A layer has many weights."),
                     ("obsolete", "A layer has weights.")}
    translations.update(ZH, pot)
    kinds = {(kind, msgid) for _, kind, msgid in translations.problems(ZH, pot)}
    assert kinds == {("fuzzy", "A layer has many weights.")}
    catalog = translations.read_catalog(ZH, "book/page")
    catalog["A layer has many weights."].string = "一个层有很多权重。"
    catalog["A layer has many weights."].flags.discard("fuzzy")
    translations.write_catalog(ZH, "book/page", catalog)
    assert translations.problems(ZH, pot) == []
