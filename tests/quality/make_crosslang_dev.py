"""Make the development set of issue 23's Chinese -> English translation (category dev zh-en).

Run from the repository root:

    python tests/quality/make_crosslang_dev.py --write   # rewrite tests/quality/dev_queries.toml
    python tests/quality/make_crosslang_dev.py --check   # exit 1 unless the file holds exactly that

The judged set (make_crosslang.py, category dictionary zh-en) must not be
tuned on, so translation code is developed on the other half of the same
candidates: rule (b) of make_crosslang.py samples every second word of each
band starting with the first; this set takes every second word starting with
the second. Everything else is the judged set's rule: the candidates of rule
(a), a hand-written row per word in DEV_TRANSLATIONS (written before the
system was run on any of them, by the judged table's rule (d): a Chinese
policy reader's usual term, the English inflections and the Chinese forms
that count as holding a translation, or a drop code D1-D5), the mechanical
drops of rule (d), and the judgment of rule (e). A dev query whose Chinese
query or word repeats a judged zh-en query is dropped as a duplicate, so no
judged query is measured here.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEV_QUERIES = HERE / "dev_queries.toml"
CATEGORY = "dev zh-en"


def load_rule():
    """Import make_crosslang.py, the judged set's rule, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("make_crosslang", HERE / "make_crosslang.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


# Hand-written rows for the development words, format of make_crosslang.TRANSLATIONS.
DEV_TRANSLATIONS = """
# --- rare band ---
adds = D1
alone = D1
anti = D4
assess = 评估 | assess assesses assessed assessing | 评估 评价
back = D3
besides = D1
brings = D1
classification = 分类 | classification classifications | 分类
compares = 比较 | compare compares compared comparing | 比较 对比
comprehensively = 全面 | comprehensive comprehensively | 全面 综合
concerned = 关注 | concern concerns concerned concerning | 关注 关切 关心
content = 内容 | content contents | 内容
covers = D3
dates = D2
declarations = 宣言 | declaration declarations | 宣言
deepens = 深化 | deepen deepens deepened deepening | 深化
devoted = D3
earlier = 早期 | early earlier earliest | 早期 此前 以前
economic = 经济 | economic economy economies | 经济
elsewhere = D1
entry = D3
examines = D2
expert = 专家 | expert experts | 专家
faces = 面临 | face faces faced facing | 面临 面对
file = 文件 | file files | 文件 档案
five = D1
give = D1
group = 小组 | group groups | 小组 工作组 集团 团体
helping = 帮助 | help helps helped helping | 帮助 协助
improving = 改善 | improve improves improved improving | 改善 改进 提高
lagging = 落后 | lag lags lagged lagging | 落后 滞后
latest = 最新 | latest | 最新
line = D3
linking = D3
longer = D1
main = 主要 | main | 主要
matter = D3
meant = D1
notes = D2
occasion = D3
ordination = D4
pages = D2
paired = 结对 | pair pairs paired pairing | 结对 配对
paragraphs = D2
partners = 伙伴 | partner partners | 伙伴 合作伙伴 合作方
pilot = 试点 | pilot pilots | 试点
practical = 实际 | practical | 实际 实用 务实
publication = 出版物 | publication publications | 出版物 出版
range = D3
related = 相关 | related | 相关 有关
represented = 代表 | represent represents represented representing | 代表
restate = D2
resulting = D3
role = 作用 | role roles | 作用 角色
side = D3
signature = 签署 | signature signatures | 签署 签字 签名
six = D1
speed = 速度 | speed speeds | 速度
subject = D3
targets = 目标 | target targets | 目标
theme = 主题 | theme themes | 主题
titles = D2
wide = 广泛 | wide wider widest | 广泛 更广
works = D3
# --- middle band ---
actions = 行动 | action actions | 行动
agenda = 议程 | agenda agendas | 议程
aspects = 方面 | aspect aspects | 方面
balanced = 平衡 | balance balances balanced balancing | 平衡 均衡
bases = 基础 | base bases | 基础 基地
behind = D1
booming = 繁荣 | boom booms boomed booming | 繁荣 蓬勃 兴旺
carried = D1
colleagues = 同事 | colleague colleagues | 同事 同仁
comparative = 比较 | comparative | 比较
concurrent = D3
country = 国家 | country countries | 国家
dealt = D3
declining = 衰退 | decline declines declined declining | 衰退 下降 衰落
discussions = 讨论 | discussion discussions | 讨论 探讨
emergence = 兴起 | emergence | 兴起 出现 涌现
eroded = 侵蚀 | erode erodes eroded eroding | 侵蚀 削弱
fell = 下降 | fall falls fell fallen falling | 下降 下滑
forward = D1
fourth = D1
held = 举行 | hold holds held holding | 举行 召开 举办
identified = 确定 | identify identifies identified identifying | 确定 识别 认定 查明
including = D1
industrial = 工业 | industrial | 工业 产业
initiated = 发起 | initiate initiates initiated initiating | 发起 启动 倡议
international = 国际 | international | 国际
leading = D3
low = D5
massive = 大规模 | massive | 大规模 巨大 大量
name = D2
non = D4
opportunities = 机遇 | opportunity opportunities | 机遇 机会
part = D3
past = 过去 | past | 过去 以往
place = D3
potential = 潜力 | potential | 潜力 潜能
produced = D3
promote = 推动 | promote promotes promoted promoting | 推动 促进 推进
provides = 提供 | provide provides provided providing | 提供
relating = D3
reports = 报告 | report reports | 报告
scale = 规模 | scale scales | 规模 尺度
separate = D3
sharing = 分享 | share shares shared sharing | 分享 共享
sides = D3
sixth = D1
speakers = 发言人 | speaker speakers | 发言人 演讲者 发言
strong = D3
successful = 成功 | successful successfully | 成功
taken = D1
took = D1
trap = 陷阱 | trap traps | 陷阱
view = D3
# --- common band ---
according = D1
areas = D3
best = 最佳 | best | 最佳
bilateral = 双边 | bilateral | 双边
commitment = 承诺 | commitment commitments | 承诺
considerable = D1
contribution = 贡献 | contribution contributions | 贡献
covering = D3
decision = 决定 | decision decisions | 决定 决策
describes = D2
disparities = 差距 | disparity disparities | 差距 差异
divide = 鸿沟 | divide divides | 鸿沟 差距 分化
experiences = 经验 | experience experiences | 经验
facing = 面临 | face faces faced facing | 面临 面对
focus = 重点 | focus focuses focused focussed focusing focussing | 重点 聚焦 侧重
following = D1
gives = D2
growth = 增长 | growth | 增长
high = D5
income = 收入 | income incomes | 收入
intend = D1
issues = 问题 | issue issues | 问题 议题
launched = 启动 | launch launches launched launching | 启动 发起 推出
level = D3
links = D3
made = D1
member = 成员 | member members | 成员
mostly = D1
offer = 提供 | offer offers offered offering | 提供
parts = D3
policies = 政策 | policy policies | 政策
programme = 项目 | programme programmes program programs | 项目 计划
provinces = 省份 | province provinces | 省份 各省
reference = 参考 | reference references | 参考 参照
relation = D3
represent = 代表 | represent represents represented representing | 代表
selected = D3
seminars = 研讨会 | seminar seminars | 研讨会 研讨
series = 系列 | series | 系列
sessions = D3
seventh = D1
signed = 签署 | sign signs signed signing | 签署 签订 签字
states = D3
strengthen = 加强 | strengthen strengthens strengthened strengthening | 加强 强化
summary = D2
systems = 系统 | system systems | 系统 体系
territorial = 领土 | territorial | 领土 地域 国土
title = D2
topics = 议题 | topic topics | 议题 主题 话题
understanding = 理解 | understanding | 理解 了解 谅解
vast = 广阔 | vast | 广阔 辽阔 广大
visited = 访问 | visit visits visited visiting | 访问 考察 参观
week = D5
years = D5
"""


def sample_dev(rule, col) -> list[tuple[str, str, int]]:
    """Return the development words as (band, word, document frequency): the words rule (b) leaves out."""
    cands = col.candidates([col.english[i] for i in col.english_only])
    df = col.document_frequency(cands)
    out = []
    for name, low, high in rule.BANDS:
        band = sorted(w for w in cands if low <= df[w] <= high)
        out += [(name, w, df[w]) for w in band[1::rule.SAMPLE_STEP]]
    return out


def build(rule, col):
    """Apply the rule to the development words: return the kept queries and the dropped (word, reason)."""
    table = rule.parse_translations(DEV_TRANSLATIONS)
    judged, _ = rule.build(col)
    kept = [j for j in judged if j.category == "dictionary zh-en"]
    dev, dropped = [], []
    sample = sample_dev(rule, col)
    for band, word, df in sample:
        entry = table.get(word)
        reason = rule.drop_reason(col, word, entry, kept, "zh-en")
        if reason:
            dropped.append(("zh-en", word, reason))
            continue
        relevant, chinese_only = rule.judge(col, entry)
        judged_query = rule.Judged(entry.zh_query, CATEGORY, word, f"{band} band, in {df} of the English-only documents",
                                   list(entry.english + entry.chinese), relevant, chinese_only)
        kept.append(judged_query)
        dev.append(judged_query)
    unused = set(table) - {w for _, w, _ in sample}
    if unused:
        raise ValueError(f"DEV_TRANSLATIONS has rows for words not in the development half: {sorted(unused)}")
    return dev, dropped


def render(rule, dev, dropped) -> str:
    """Render dev_queries.toml."""
    lines = ["# Development set of issue 23 (category dev zh-en): generated by tests/quality/make_crosslang_dev.py,",
             "# do not edit by hand. Same rule and judgments as the judged dictionary zh-en set of queries.toml,",
             "# on the other half of its candidate words; tune translation here, never on the judged set.",
             "#", f"# {CATEGORY}: {len(dev)} queries; sampled words dropped, by reason:"]
    by_reason: dict[str, list[str]] = {}
    for _, word, reason in dropped:
        by_reason.setdefault(reason, []).append(word)
    for reason in rule.DROP_REASONS:
        if reason in by_reason:
            lines.append(f"#   {reason}: {' '.join(by_reason[reason])}")
    for j in dev:
        lines += ["", f"# {j.word} ({j.band})", "[[query]]", f'q = "{j.q}"', f'category = "{j.category}"',
                  f"relevant = {rule.toml_list(j.relevant)}", f"accept = {rule.toml_list(j.accept)}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite dev_queries.toml")
    parser.add_argument("--check", action="store_true", help="exit 1 unless dev_queries.toml holds what the rule gives")
    args = parser.parse_args()
    rule = load_rule()
    wanted = render(rule, *build(rule, rule.Collection()))
    if args.check:
        if not DEV_QUERIES.exists() or DEV_QUERIES.read_text(encoding="utf-8") != wanted:
            print(f"{DEV_QUERIES} is out of date: run {Path(__file__).name} --write", file=sys.stderr)
            return 1
        return 0
    if args.write:
        DEV_QUERIES.write_text(wanted, encoding="utf-8")
        return 0
    print(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
