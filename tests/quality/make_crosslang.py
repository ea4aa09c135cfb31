"""Make the judged cross-language queries of issue 23 (categories dictionary zh-en / en-zh).

Run from the repository root:

    python tests/quality/make_crosslang.py --candidates   # print the candidate words by band
    python tests/quality/make_crosslang.py --write        # rewrite the generated part of queries.toml
    python tests/quality/make_crosslang.py --check        # exit 1 unless queries.toml holds exactly that

The set measures dictionary-based query translation, so it was fixed by the
rule below before any translation code was tuned, and nobody who wrote it ran
the search system on it. Inputs are only archive/catalogue.toml,
archive/standins.toml and archive/glossary.toml; the hand-written part is the
translation table TRANSLATIONS (a Chinese policy reader's usual term for each
sampled English word, and the forms that count as holding a translation).

The rule
--------
(a) Candidates. The English text of a document is the text of its English
    files plus its catalogue title, event, place and programme (the fields the
    judged set has always used; never the summary). Words are runs of letters
    and digits after case and accent folding; hyphens, slashes and apostrophes
    separate words. A candidate is a word of the English-only documents
    (documents with files, none of them Chinese) that
      - is at least 3 letters and has no digit,
      - is not in STOPWORDS (function words and the most generic verbs),
      - occurs written in lower case at least once in those texts (this drops
        names, nationality adjectives, months and acronyms, which are written
        capitalised everywhere),
      - does not occur in the stand-in notice that opens every file (those
        words are in every document and say nothing about its content),
      - is not itself a one-word glossary term (archive/glossary.toml, English
        side, inflections included: "cluster" goes with "clusters"), nor a
        word the issue itself uses as an example (ISSUE_EXAMPLES: the
        implementer tries those while building, so they cannot measure an
        untuned system), nor a one-word term proposed for the glossary
        (GLOSSARY_PROPOSALS, fixed before sampling: the set must measure the
        dictionary, not the glossary).
    Its document frequency is the number of English-only documents whose
    English text holds it.
(b) Chinese -> English. The candidates fall into three bands by document
    frequency, BANDS, whose bounds were read off the distribution (printed by
    --candidates) before any word was chosen, as the split closest to thirds:
    of the 343 candidates, 128 are in 1-2 documents (rare), 107 in 3-5
    (middle) and 108 in 6 or more (common) of the 18 English-only documents.
    (The bounds 1-2 / 3-7 / 8+ would have left 48 common words.) From each
    band, in alphabetical order, every second word (SAMPLE_STEP) is sampled,
    starting with the first: 172 words. (Every third word, 115, was the first
    choice; counted before any translation was written, the drops of (d)
    would have left about 65 queries, short of the 70 aimed at.)
(c) English -> Chinese. The pool is the candidate rule of (a) applied to the
    English files of the documents that also have a Chinese file (their
    Chinese text is where a translation can be found), minus the words already
    sampled in (b). Every second word of the pool (EN_ZH_STEP) in alphabetical
    order is sampled, starting with the first: 65 words. A sampled word
    becomes a query only when one of its Chinese forms occurs in some Chinese
    file or title_zh. The pool is 129 words (211 before the words of (b) are
    taken out): the five Chinese files are short translations of their
    English versions. Every second word gives the ~35 queries aimed at;
    every word would give about 70 from a pool that small.
(d) Translation. Each sampled word has a row in TRANSLATIONS, written by
    hand once the sample was drawn and before any judgment was computed: the
    Chinese query a policy reader would type (the usual term of Chinese policy
    writing), the English forms (inflections and British/American spellings)
    and the Chinese forms (simplified) that count as holding a translation.
    A word is dropped, never replaced, when it has no clean Chinese
    equivalent (codes D1-D5 of DROP_REASONS, given in its row). The other
    reasons of DROP_REASONS are checked mechanically, in their order: the
    query is or contains a glossary term or a proposed one, or is one of the
    issue's examples; an accepted form is in the stand-in notice; it repeats
    an earlier kept query of the same direction; (English -> Chinese) no
    Chinese form is in the Chinese text. The generated part of queries.toml
    lists every dropped word with its reason.
(e) Judgment. A document is relevant when its English text holds an accepted
    English form (whole words, case- and accent-insensitive, several words
    adjacent and in order) or its Chinese text (Chinese files plus title_zh)
    holds an accepted Chinese form as a substring, the rules of the rest of
    queries.toml. A query with no relevant document is dropped.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "archive" / "catalogue.toml"
STANDINS = ROOT / "archive" / "standins.toml"
GLOSSARY = ROOT / "archive" / "glossary.toml"
QUERIES = ROOT / "tests" / "quality" / "queries.toml"

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down
during each either few for from further had has have having he her here hers
him his how however i if in into is it its itself just may me might more most
must my neither no nor not now of off on once one only or other others our ours
out over own same shall she should so some such than that the their theirs them
then there these they this those through thus to too under until up upon us very
was we were what when where whether which while who whom whose why will with
within without would yet you your
among along across per via since though although unless whose itself towards
toward onto
another every many much several less least well even still rather quite
etc ie eg
""".split())

# Bounds of the frequency bands (documents holding the word), read off the
# distribution printed by --candidates before any word was sampled.
BANDS = (("rare", 1, 2), ("middle", 3, 5), ("common", 6, 10**6))
SAMPLE_STEP = 2
EN_ZH_STEP = 2

# Words the issue uses as its own examples (issue 23, "Why" and "Done when").
ISSUE_EXAMPLES = frozenset("""
urbanisation urbanization rural industrialisation industrialization
cooperation city cities local government exchange experience climate change
infrastructure
""".split())

# Domain terms proposed for the glossary (reported to the lead, not added here).
# Fixed before sampling; a one-word English side leaves the candidates, and a
# query whose Chinese form contains a proposed Chinese side is dropped.
GLOSSARY_PROPOSALS = {
    "urbanisation": "城镇化",
    "industrialisation": "工业化",
    "local government": "地方政府",
    "rural areas": "农村",
    "infrastructure": "基础设施",
    "climate change": "气候变化",
    "exchange of experience": "经验交流",
    "underdeveloped": "欠发达",
    "Western regions": "西部地区",
    "industrial base": "工业基础",
    "policy dialogue": "政策对话",
}


# Words the issue's own tables use as Chinese queries (see ISSUE_EXAMPLES).
ISSUE_EXAMPLES_ZH = ("城镇化", "地方政府", "农村", "工业化", "合作", "城市", "经验交流", "气候变化", "基础设施")

# Reasons a sampled word is dropped. D* are judged by hand in TRANSLATIONS,
# the others are checked mechanically, in this order.
DROP_REASONS = {
    "D1": "function-like word: adverb, numeral, ordinal, quantifier or generic verb (give, take, show, make)",
    "D2": "word about the text itself: document parts, dates and reporting verbs (heading, title, lists, explains)",
    "D3": "no single usual Chinese term: the rendering depends on the phrase the word is in",
    "D4": "fragment of a hyphenated compound (co-operation, multi-level, tailor-made)",
    "D5": "the usual Chinese equivalent is one character that is part of many unrelated words",
    "glossary": "the query is or contains a glossary term (Chinese query holds a glossary zh term as a substring, "
                "or an accepted English form is a one-word glossary term)",
    "proposed": "the query is or contains a term proposed for the glossary",
    "issue": "the query or an accepted English form is one of the issue's own examples",
    "notice": "an accepted form occurs in the stand-in notice, so every document would hold it",
    "duplicate": "same query as an earlier kept one of the same direction (its word is an accepted form "
                 "of that query, or its Chinese query is the same)",
    "no-chinese": "English -> Chinese only: no Chinese form occurs in a Chinese file or title_zh",
    "unjudged": "no document holds an accepted form",
}

# Hand-written translation table of rule (d), written once for the sampled
# words before any judgment was computed. One line per sampled word:
#   word = Chinese query | accepted English forms | accepted Chinese forms
#   word = D1..D5          (dropped, reason in DROP_REASONS)
# A word sampled twice by inflection (visit, visits) has a line each; the
# later one is dropped mechanically as a duplicate.
TRANSLATIONS = """
# --- Chinese -> English sample (rule b) ---
achieve = 实现 | achieve achieves achieved achieving | 实现 达到 达成
aim = 目标 | aim aims aimed aiming | 目标 旨在 目的
annual = 年度 | annual | 年度 每年 一年一度
appears = D1
authors = 作者 | author authors | 作者
belong = 属于 | belong belongs belonged belonging | 属于
bring = D1
came = D1
collection = D2
comparing = 比较 | compare compares compared comparing | 比较 对比
concentrates = 集中 | concentrate concentrates concentrated concentrating | 集中
contains = D1
continue = 继续 | continue continues continued continuing | 继续 延续
dated = D2
declaration = 宣言 | declaration declarations | 宣言
deepening = 深化 | deepen deepens deepened deepening | 深化
definition = 定义 | definition definitions | 定义 界定
documents = 文件 | document documents | 文件 文档
earliest = 最早 | early earlier earliest | 最早 最初
eight = D1
entries = D2
event = 活动 | event events | 活动
examples = 实例 | example examples | 实例 例子 范例 案例
explains = D2
figures = D3
financed = 资助 | finance finances financed financing | 资助 出资 融资
focused = 重点 | focus focuses focused focussed focusing focussing | 重点 聚焦 侧重
goes = D1
head = D3
illustrations = D2
known = D3
last = D3
launching = 启动 | launch launches launched launching | 启动 发起 推出
link = D3
listed = D2
looks = D1
making = D1
matters = D3
month = D5
nothing = D1
offers = 提供 | offer offers offered offering | 提供
organisation = 组织 | organisation organisations organization organizations | 组织
pair = 结对 | pair pairs paired pairing | 结对 配对
pairs = 结对 | pair pairs paired pairing | 结对 配对
particular = D1
perspective = 视角 | perspective perspectives | 视角 角度
planned = 计划 | plan plans planned planning | 计划 规划
practice = 实践 | practice practices practise practised | 实践 做法
questions = 问题 | question questions | 问题
records = D2
relates = D3
research = 研究 | research | 研究
rests = D3
results = 成果 | result results | 成果 结果
show = D1
signatories = 签署方 | signatory signatories | 签署方 签约方 签字方
single = D3
special = 特别 | special | 特别 特殊 专门
statement = 声明 | statement statements | 声明
sums = D1
ten = D1
third = D1
whole = D1
wider = 广泛 | wide wider widest | 广泛 更广
action = 行动 | action actions | 行动
activities = 活动 | activity activities | 活动
agriculture = 农业 | agriculture | 农业
authorities = 当局 | authority authorities | 当局 主管部门
base = 基础 | base bases | 基础 基地
basis = 基础 | basis | 基础
belongs = 属于 | belong belongs belonged belonging | 属于
business = 企业 | business businesses | 企业 商界
coastal = 沿海 | coastal | 沿海
commercial = 商业 | commercial | 商业 商务
concern = 关注 | concern concerns concerned concerning | 关注 关切 关心
countries = 国家 | country countries | 国家
created = D3
decline = 衰退 | decline declines declined declining | 衰退 下降 衰落
dialogues = 对话 | dialogue dialogues dialog dialogs | 对话
drivers = 动力 | driver drivers | 动力 引擎 驱动
end = D3
facilitating = 促进 | facilitate facilitates facilitated facilitating | 促进 便利
final = 最终 | final | 最终 最后
four = D1
heavy = D5
highly = D1
implemented = 实施 | implement implements implemented implementing | 实施 执行 落实
increase = 增加 | increase increases increased increasing | 增加 扩大
industry = 产业 | industry industries | 产业 工业 行业
interest = D3
key = 关键 | key | 关键 重点
led = D3
major = 重大 | major | 重大 主要
multi = D4
new = D5
operation = D4
parallel = D3
participate = 参与 | participate participates participated participating | 参与 参加
phenomena = 现象 | phenomenon phenomena | 现象
point = D3
previous = D3
producing = D3
proved = D1
reforms = 改革 | reform reforms reformed reforming | 改革
released = 发布 | release releases released releasing | 发布
say = D1
second = D1
share = 分享 | share shares shared sharing | 分享 共享
shown = D1
significant = 显著 | significant | 显著 重大
slow = 缓慢 | slow slower slowest | 缓慢 放缓 慢
strengthening = 加强 | strengthen strengthens strengthened strengthening | 加强 强化
studies = 研究 | study studies | 研究
take = D1
tax = 税收 | tax taxes | 税
traditional = 传统 | traditional | 传统
used = D1
vivid = 生动 | vivid | 生动
able = D1
aims = 目标 | aim aims aimed aiming | 目标 旨在 目的
began = D1
beyond = D1
cohesion = 凝聚 | cohesion | 凝聚
conclusions = 结论 | conclusion conclusions | 结论
consists = D1
covered = D3
date = D2
delegates = 代表 | delegate delegates | 代表
development = 发展 | development developments | 发展
diversity = 多样性 | diversity | 多样性 多样化
eighth = D1
experts = 专家 | expert experts | 专家
field = 领域 | field fields | 领域
followed = D3
general = D3
good = D5
heading = D2
implementing = 实施 | implement implements implemented implementing | 实施 执行 落实
information = 信息 | information | 信息 资讯
introductory = D3
joint = 联合 | joint | 联合 共同
lectures = 讲座 | lecture lectures | 讲座 讲课 授课
linkages = 联系 | linkage linkages | 联系 关联
lists = D2
makers = D3
memorandum = 备忘录 | memorandum memoranda memorandums | 备忘录
mutual = 相互 | mutual | 相互 互相
particularly = D1
period = 时期 | period periods | 时期 期间
practices = 实践 | practice practices practise practised | 实践 做法
provide = 提供 | provide provides provided providing | 提供
realities = 现实 | reality realities | 现实 实际情况
regions = 地区 | region regions | 地区 区域
report = 报告 | report reports | 报告
respective = 各自 | respective | 各自
seminar = 研讨会 | seminar seminars | 研讨会 研讨
senior = 高级 | senior | 高级 资深
session = D3
setting = D3
shared = 分享 | share shares shared sharing | 分享 共享
solutions = 解决方案 | solution solutions | 解决方案 解决办法
statistical = 统计 | statistical | 统计
study = 研究 | study studies | 研究
sustainable = 可持续 | sustainable | 可持续
tailor = D4
three = D1
together = D1
two = D1
urban = 城市 | urban | 城市
visit = 访问 | visit visits visited visiting | 访问 考察 参观
visits = 访问 | visit visits visited visiting | 访问 考察 参观
year = D5
# --- English -> Chinese sample (rule c) ---
agenda = 议程 | agenda agendas | 议程
areas = D3
assess = 评估 | assess assesses assessed assessing | 评估 评价
bases = 基础 | base bases | 基础 基地
best = 最佳 | best | 最佳
booming = 蓬勃发展 | booming | 蓬勃 繁荣
captioned = D2
classification = 分类 | classification classifications | 分类
comparative = 比较 | comparative | 比较
comparison = 比较 | comparison comparisons | 比较 对比
concurrent = D3
content = 内容 | content contents | 内容
country = 国家 | country countries | 国家
dealt = D3
declarations = 宣言 | declaration declarations | 宣言
described = D2
description = D2
divide = 鸿沟 | divide divides | 鸿沟 差距 分化
emergence = 兴起 | emergence | 兴起 出现
eroded = 侵蚀 | erode erodes eroded eroding | 侵蚀
experiences = 经验 | experience experiences | 经验
fell = 下降 | fall falls fell fallen falling | 下降 下滑
first = D1
gives = D2
growth = 增长 | growth | 增长
high = D5
illustrates = D2
includes = D1
industrial = 工业 | industrial | 工业 产业
intend = D1
lagging = 落后 | lag lags lagged lagging | 落后 滞后
latter = D1
leading = D3
linked = D3
list = D2
low = D5
make = D1
mentions = D2
occasion = D3
ordination = D4
paired = 结对 | pair pairs paired pairing | 结对 配对
parties = 双方 | party parties | 双方 各方 当事方
past = 过去 | past | 过去 以往
place = D3
potential = 潜力 | potential | 潜力 潜能
presents = D2
programme = 项目 | programme programmes program programs | 项目 计划
provides = 提供 | provide provides provided providing | 提供
publication = 出版物 | publication publications | 出版物 出版
related = 相关 | related | 相关 有关
relation = D3
seminars = 研讨会 | seminar seminars | 研讨会 研讨
series = 系列 | series | 系列
seventh = D1
shows = D1
sides = 双方 | side sides | 双方 一方
signed = 签署 | sign signs signed signing | 签署 签订 签字
speed = 速度 | speed speeds | 速度
strong = D3
systems = 系统 | system systems | 系统 体系
title = D2
topics = 议题 | topic topics | 议题 主题 话题
understanding = 理解 | understanding | 理解 了解 谅解
visited = 访问 | visit visits visited visiting | 访问 考察 参观
years = D5
"""


def fold(text: str) -> str:
    """Return text lower-cased and without accents."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words_of(text: str) -> list[str]:
    """Split text into folded words; hyphens, slashes and apostrophes separate words."""
    return re.findall(r"[a-z0-9]+", fold(text))


class Collection:
    """The archive's documents as the judgments see them."""

    def __init__(self) -> None:
        catalogue = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
        pages = tomllib.loads(STANDINS.read_text(encoding="utf-8"))
        glossary = tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))
        self.ids: list[str] = []
        self.english: dict[str, str] = {}
        self.chinese: dict[str, str] = {}
        self.english_only: list[str] = []
        self.bilingual: list[str] = []
        self.english_files_of_bilingual: dict[str, str] = {}
        notices_en, notices_zh = set(), set()
        for doc in catalogue["document"]:
            files = doc.get("files", [])
            en = [p for f in files if f["lang"] == "en" for p in pages[f["file"]]]
            zh = [p for f in files if f["lang"] == "zh" for p in pages[f["file"]]]
            for f in files:
                notice = pages[f["file"]][0].strip().split("\n\n")[0]
                (notices_en if f["lang"] == "en" else notices_zh).add(notice)
            fields = [doc.get(k, "") for k in ("title", "event", "place", "programme")]
            self.ids.append(doc["id"])
            self.english[doc["id"]] = "\n".join(en + fields)
            self.chinese[doc["id"]] = "\n".join(zh + [doc.get("title_zh", "")])
            if files and not zh:
                self.english_only.append(doc["id"])
            if zh:
                self.bilingual.append(doc["id"])
                self.english_files_of_bilingual[doc["id"]] = "\n".join(en)
        self.notice_words = {w for n in notices_en for w in words_of(n)}
        self.notice_zh = "\n".join(sorted(notices_zh))
        self.glossary_en = [t["en"] for t in glossary["term"]]
        self.glossary_zh = [t["zh"] for t in glossary["term"]]
        self.glossary_words = {words_of(t)[0] for t in self.glossary_en if len(words_of(t)) == 1}
        self.word_sets = {i: words_of(t) for i, t in self.english.items()}

    def candidates(self, texts: list[str]) -> set[str]:
        """Return the candidate words of texts under rule (a)."""
        found: set[str] = set()
        lower: set[str] = set()
        for text in texts:
            found |= set(words_of(text))
            lower |= {fold(w) for w in re.findall(r"[^\W\d_]+", text) if w == w.lower()}
        proposed = {words_of(t)[0] for t in GLOSSARY_PROPOSALS if len(words_of(t)) == 1}
        return {
            w for w in found
            if len(w) >= 3 and not any(c.isdigit() for c in w)
            and w not in STOPWORDS and w in lower
            and w not in self.notice_words and not self.is_glossary_word(w)
            and w not in ISSUE_EXAMPLES and w not in proposed
        }

    def is_glossary_word(self, word: str) -> bool:
        """Tell whether word is a one-word glossary term or differs from one by a plural -s/-es."""
        return any(word == g or word in (g + "s", g + "es") or g in (word + "s", word + "es")
                   for g in self.glossary_words)

    def document_frequency(self, words: set[str]) -> dict[str, int]:
        """Return how many English-only documents hold each word."""
        counts: Counter[str] = Counter()
        for doc_id in self.english_only:
            counts.update(set(self.word_sets[doc_id]) & words)
        return dict(counts)


def sample_zh_en(col: Collection) -> list[tuple[str, str, int]]:
    """Return the sampled words of rule (b) as (band, word, document frequency)."""
    cands = col.candidates([col.english[i] for i in col.english_only])
    df = col.document_frequency(cands)
    out = []
    for name, low, high in BANDS:
        band = sorted(w for w in cands if low <= df[w] <= high)
        out += [(name, w, df[w]) for w in band[::SAMPLE_STEP]]
    return out


def sample_en_zh(col: Collection, taken: set[str]) -> list[str]:
    """Return the sampled words of rule (c), before the Chinese-text filter."""
    pool = col.candidates(list(col.english_files_of_bilingual.values())) - taken
    return sorted(pool)[::EN_ZH_STEP]


MARKER = "# --- dictionary zh-en and en-zh: generated by tests/quality/make_crosslang.py, do not edit by hand ---"


@dataclass(frozen=True)
class Translation:
    """One row of TRANSLATIONS: the Chinese query and the forms that hold a translation."""

    zh_query: str
    english: tuple[str, ...]
    chinese: tuple[str, ...]


def parse_translations(text: str = TRANSLATIONS) -> dict[str, Translation | str]:
    """Parse TRANSLATIONS into word -> Translation, or word -> drop reason code."""
    table: dict[str, Translation | str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = (part.strip() for part in line.partition("="))
        if word in table:
            raise ValueError(f"{word!r} is in TRANSLATIONS twice")
        if rest in DROP_REASONS:
            table[word] = rest
            continue
        query, english, chinese = (part.split() for part in rest.split("|"))
        if len(query) != 1 or word not in english or not chinese:
            raise ValueError(f"malformed TRANSLATIONS row: {line}")
        table[word] = Translation(query[0], tuple(english), tuple(chinese))
    return table


def holds_words(words: list[str], form: str) -> bool:
    """Tell whether the folded words hold form's words adjacent and in order."""
    wanted = words_of(form)
    n = len(wanted)
    return any(words[i:i + n] == wanted for i in range(len(words) - n + 1))


@dataclass
class Judged:
    """A query of the generated set, with the documents that hold a translation."""

    q: str
    category: str
    word: str
    band: str
    accept: list[str]
    relevant: list[str]
    chinese_only: list[str] = field(default_factory=list)


def judge(col: Collection, tr: Translation) -> tuple[list[str], list[str]]:
    """Return (relevant ids, ids reached only through Chinese text) under rule (e)."""
    relevant, chinese_only = [], []
    for doc_id in col.ids:
        in_english = any(holds_words(col.word_sets[doc_id], f) for f in tr.english)
        in_chinese = any(f in col.chinese[doc_id] for f in tr.chinese)
        if in_english or in_chinese:
            relevant.append(doc_id)
        if in_chinese and not in_english:
            chinese_only.append(doc_id)
    return relevant, chinese_only


def drop_reason(col: Collection, word: str, entry: Translation | str, kept: list[Judged],
                direction: str) -> str | None:
    """Return why a sampled word makes no query under rules (d)-(e), or None to keep it."""
    if entry is None:
        raise ValueError(f"{word!r} was sampled but has no row in TRANSLATIONS")
    if isinstance(entry, str):
        return entry
    english = {tuple(words_of(f)) for f in entry.english}
    glossary_en = {tuple(words_of(t)) for t in col.glossary_en}
    proposed_en = {tuple(words_of(t)) for t in GLOSSARY_PROPOSALS}
    query = entry.zh_query if direction == "zh-en" else word
    if any(g in entry.zh_query for g in col.glossary_zh) or english & glossary_en:
        return "glossary"
    if any(z in entry.zh_query for z in GLOSSARY_PROPOSALS.values()) or english & proposed_en:
        return "proposed"
    if entry.zh_query in ISSUE_EXAMPLES_ZH or any(w in ISSUE_EXAMPLES for f in english for w in f):
        return "issue"
    if any(w in col.notice_words for f in english for w in f) or any(z in col.notice_zh for z in entry.chinese):
        return "notice"
    for earlier in kept:
        if earlier.category.endswith(direction) and (word in earlier.accept or earlier.q == query):
            return "duplicate"
    if direction == "en-zh" and not any(z in col.chinese[i] for i in col.bilingual for z in entry.chinese):
        return "no-chinese"
    if not judge(col, entry)[0]:
        return "unjudged"
    return None


def build(col: Collection) -> tuple[list[Judged], list[tuple[str, str, str]]]:
    """Apply the whole rule: return the kept queries and the dropped (direction, word, reason)."""
    table = parse_translations()
    kept: list[Judged] = []
    dropped: list[tuple[str, str, str]] = []
    zh_en = sample_zh_en(col)
    en_zh = [("pool", w, 0) for w in sample_en_zh(col, {w for _, w, _ in zh_en})]
    for direction, sample in (("zh-en", zh_en), ("en-zh", en_zh)):
        for band, word, df in sample:
            entry = table.get(word)
            reason = drop_reason(col, word, entry, kept, direction)
            if reason:
                dropped.append((direction, word, reason))
                continue
            relevant, chinese_only = judge(col, entry)
            q = entry.zh_query if direction == "zh-en" else word
            label = f"{band} band, in {df} of the English-only documents" if direction == "zh-en" else "bilingual pool"
            kept.append(Judged(q, f"dictionary {direction}", word, label,
                               list(entry.english + entry.chinese), relevant, chinese_only))
    unused = set(table) - {w for _, w, _ in zh_en} - {w for _, w, _ in en_zh}
    if unused:
        raise ValueError(f"TRANSLATIONS has rows for words not sampled: {sorted(unused)}")
    return kept, dropped


def toml_list(items: list[str]) -> str:
    """Render a list of strings as a TOML array on one line."""
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def render(kept: list[Judged], dropped: list[tuple[str, str, str]]) -> str:
    """Render the generated part of queries.toml, from MARKER to the end of the file."""
    lines = [MARKER, "#"]
    for direction in ("zh-en", "en-zh"):
        count = sum(1 for j in kept if j.category == f"dictionary {direction}")
        lines.append(f"# dictionary {direction}: {count} queries; sampled words dropped, by reason:")
        by_reason: dict[str, list[str]] = {}
        for d, word, reason in dropped:
            if d == direction:
                by_reason.setdefault(reason, []).append(word)
        for reason in DROP_REASONS:
            if reason in by_reason:
                lines.append(f"#   {reason}: {' '.join(by_reason[reason])}")
    reached = [j for j in kept if j.chinese_only]
    lines.append(f"# en-zh queries that reach a document only through its Chinese text: "
                 f"{sum(1 for j in reached if j.category == 'dictionary en-zh')}")
    for j in kept:
        lines += ["", f"# {j.word} ({j.band})"]
        if j.chinese_only:
            lines.append(f"# only through Chinese text: {' '.join(j.chinese_only)}")
        lines += ["[[query]]", f'q = "{j.q}"', f'category = "{j.category}"',
                  f"relevant = {toml_list(j.relevant)}", f"accept = {toml_list(j.accept)}"]
    return "\n".join(lines) + "\n"


def generated_part(text: str) -> str:
    """Return the part of queries.toml text from MARKER on ("" if it has none)."""
    at = text.find(MARKER)
    return text[at:] if at >= 0 else ""


def main() -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", action="store_true", help="print the candidates by band and the samples")
    parser.add_argument("--write", action="store_true", help="rewrite the generated part of queries.toml")
    parser.add_argument("--check", action="store_true", help="exit 1 unless queries.toml holds what the rule gives")
    args = parser.parse_args()
    col = Collection()
    if args.write or args.check:
        text = QUERIES.read_text(encoding="utf-8")
        wanted = render(*build(col))
        if args.check:
            if generated_part(text) != wanted:
                print(f"{QUERIES} is out of date: run {Path(__file__).name} --write", file=sys.stderr)
                return 1
            return 0
        hand_written = text[: len(text) - len(generated_part(text))].rstrip("\n")
        QUERIES.write_text(hand_written + "\n\n" + wanted, encoding="utf-8")
        return 0
    if args.candidates:
        cands = col.candidates([col.english[i] for i in col.english_only])
        df = col.document_frequency(cands)
        print(len(cands), sorted(Counter(df.values()).items()))
        for name, lo, hi in BANDS:
            band = sorted(w for w in cands if lo <= df[w] <= hi)
            print(name, len(band))
        zh_en = sample_zh_en(col)
        print(len(zh_en), zh_en)
        en_zh = sample_en_zh(col, {w for _, w, _ in zh_en})
        print(len(en_zh), en_zh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
