"""Every string the TUI shows, in English and Chinese: one table, looked up with :func:`t`.

Metric names come from the catalogue (:func:`mcm.present.language.label`), decision headings and the engine's
messages from :mod:`mcm.present`; only the app's own words live here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from mcm.present.language import Lang

if TYPE_CHECKING:
    from textual.dom import DOMNode

# key: (English, 中文)
_STRINGS: dict[str, tuple[str, str]] = {
    # steps and global bindings
    "step.scenario": ("Scenario", "场景"),
    "step.constraints": ("Constraints", "约束"),
    "step.baseline": ("Baseline", "基线"),
    "step.recommendations": ("Plan", "方案"),
    "step.export": ("Export", "导出"),
    "key.next": ("Next", "下一步"),
    "key.back": ("Back", "上一步"),
    "key.help": ("Help", "帮助"),
    "key.quit": ("Quit", "退出"),
    "key.reload": ("Reload rules", "重新加载规则"),
    "key.palette": ("Commands", "命令"),
    "key.choose": ("Choose", "选择"),
    "key.close": ("Close", "关闭"),
    "key.measure": ("Measure", "测量"),
    "key.cancel": ("Cancel", "取消"),
    "key.write": ("Write files", "写出文件"),
    "key.reset": ("Reset limits", "重置约束"),
    "key.source": ("Show rule", "查看规则"),
    "title": ("mcm — model compression advisor", "mcm — 模型压缩顾问"),
    # scenario screen
    "scenario.pick": ("What are you deploying to?", "部署目标是什么？"),
    "scenario.core": ("Core (must watch)", "核心指标（必看）"),
    "scenario.secondary": ("Secondary", "次要指标"),
    "scenario.ignored": ("Can ignore", "可忽略"),
    "scenario.constraints": ("Constraints", "约束"),
    "scenario.stack": ("Suggested stack", "推荐方案"),
    "scenario.expected": ("Expected outcome (reference)", "预期结果（参考）"),
    "scenario.file": ("Rules", "规则"),
    "scenario.loading": ("Loading the rules…", "正在加载规则…"),
    "scenario.none": ("no scenario in the loaded rules", "已加载的规则中没有场景"),
    # rules errors
    "rules.error": ("The rules could not be loaded", "规则无法加载"),
    "rules.fix": (
        "Fix the file, then press ctrl+r to reload.",
        "修改文件后按 ctrl+r 重新加载。",
    ),
    "rules.reloaded": ("Rules reloaded", "规则已重新加载"),
    # constraints screen
    "constraints.title": ("Constraints for {name}", "{name} 的约束"),
    "constraints.help": (
        "Checked as you type. Write the unit (50 ms, 85 %); a bare number is canonical (ms, MB, W, 0.85 = 85 %).",
        "输入时即校验。请写单位（50 ms、85 %）；不带单位的数字按规范单位（ms、MB、W，0.85 即 85 %）。",
    ),
    "constraints.hard": ("hard", "硬约束"),
    "constraints.remove": ("remove", "删除"),
    "constraints.metric": ("metric", "指标"),
    "constraints.add_button": ("add", "添加"),
    "constraints.no_scenario": ("Choose a scenario first (F2).", "请先选择场景（F2）。"),
    "constraints.pick_metric": ("choose a metric", "请选择指标"),
    # baseline screen
    "baseline.type": ("Type the numbers", "输入数值"),
    "baseline.load": ("Load a report (mcm measure --format json)", "加载报告（mcm measure --format json）"),
    "baseline.load_button": ("load", "加载"),
    "baseline.measure": ("Measure a model file (or `demo`)", "测量模型文件（或 `demo`）"),
    "baseline.measure_button": ("measure", "测量"),
    "baseline.path": ("path to report.json", "report.json 的路径"),
    "baseline.model": ("model.onnx, model.pt2 or demo", "model.onnx、model.pt2 或 demo"),
    "baseline.loaded": ("Loaded {n} metrics from {file}", "从 {file} 加载了 {n} 个指标"),
    "baseline.measuring": ("Measuring {model}…", "正在测量 {model}…"),
    "baseline.measured": ("Measured {model}: {n} metrics", "已测量 {model}：{n} 个指标"),
    "baseline.cancelled": (
        "Measurement cancelled: the partial report is used",
        "测量已取消：使用部分结果",
    ),
    "baseline.cancelled_early": (
        "Measurement cancelled before anything was measured",
        "测量已取消：尚无任何结果",
    ),
    "baseline.cancelling": ("Cancelling after the current phase…", "当前阶段结束后取消…"),
    "baseline.cancel_hint": ("escape cancels", "按 Esc 取消"),
    "baseline.histogram": (
        "Latency histogram, batch {batch} ({n} calls)",
        "延迟直方图，批大小 {batch}（{n} 次调用）",
    ),
    "baseline.target": ("Target and data", "目标硬件与数据"),
    "baseline.unset": ("not given", "未指定"),
    # recommendations
    "rec.triangle": (
        "Impossible triangle: accuracy, latency, resources — pick two",
        "不可能三角：精度、延迟、资源——只能选两个",
    ),
    "rec.trace": ("Rule trace (enter: show the rule)", "规则追踪（回车：查看规则）"),
    "rec.why_not": ("Why not", "未选原因"),
    "rec.no_plan": ("No plan: nothing to change, or facts are missing", "没有方案：无需改动，或缺少事实"),
    "rec.relax": ("Relax", "放宽"),
    "rec.corner.accuracy": ("accuracy", "高精度"),
    "rec.corner.latency": ("latency", "低延迟"),
    "rec.corner.resources": ("resources", "低资源"),
    "rec.corner.free": ("no constraint", "无约束"),
    "rec.gain": (
        "core gain ×{gain}, accuracy risk {risk}, difficulty {difficulty}",
        "核心收益 ×{gain}，精度风险 {risk}，难度 {difficulty}",
    ),
    "rec.error": ("Cannot decide", "无法决策"),
    "status.met": ("met", "满足"),
    "status.violated": ("violated", "不满足"),
    "status.unknown": ("unknown", "未知"),
    "status.prefer": (" (prefer)", "（偏好）"),
    "trace.fired": ("fired", "触发"),
    "trace.not_fired": ("not fired", "未触发"),
    "trace.skipped": ("skipped", "跳过"),
    "trace.error": ("cannot tell (a fact unknown or invalid)", "无法判断（事实未知或有误）"),
    "trace.inapplicable": ("fired; its techniques cannot be used here", "触发，但其技术在此不可用"),
    "help.focus": ("move between fields", "在字段间移动"),
    "rec.as_is": ("the model as it is (no technique)", "保持原样（不用任何技术）"),
    "rec.cli": ("The same advice on the command line", "等同的命令行"),
    # export
    "export.title": ("Export the plan and the constraints", "导出方案与约束"),
    "export.folder": ("Folder", "目录"),
    "export.json": ("Plan as JSON", "方案 JSON"),
    "export.markdown": ("Plan as Markdown", "方案 Markdown"),
    "export.rules": ("Constraints as a .rules file", "约束 .rules 文件"),
    "export.wrote": ("Wrote {files}", "已写出 {files}"),
    "export.preview": ("The .rules file", ".rules 文件预览"),
    "export.no_folder": ("{folder}: no such folder", "{folder}：目录不存在"),
    "export.no_folder_hint": ("create it first, or choose another", "请先创建该目录，或换一个目录"),
    "export.create_folder": ("Create folder {folder}?", "创建目录 {folder}？"),
    "export.overwrite": ("Overwrite {files}?", "覆盖 {files}？"),
    "export.declined": ("Nothing written", "未写出任何文件"),
    "confirm.yes": ("Yes", "是"),
    "confirm.no": ("No", "否"),
    # palette
    "cmd.explain": ("Explain technique: {name}", "解释技术：{name}"),
    "cmd.rule": ("Jump to rule: {name}", "跳转到规则：{name}"),
    "cmd.reload": ("Reload rules", "重新加载规则"),
    "cmd.export": ("Export the plan", "导出方案"),
    "cmd.goto": ("Go to: {name}", "前往：{name}"),
    "cmd.help": ("Help and FAQ", "帮助与常见问题"),
    "cmd.placeholder": ("Search for commands…", "搜索命令…"),
    # technique / source screens
    "tech.effects": ("Effects", "效果"),
    "tech.difficulty": ("Difficulty", "难度"),
    "tech.rating": ("Rating", "推荐度"),
    "tech.requires": ("Requires", "前提"),
    "tech.excludes": ("Excludes", "互斥"),
    "tech.caveats": ("Caveats", "注意"),
    "source.missing": ("{file}: cannot read it", "{file}：无法读取"),
    # help
    "help.title": ("Help", "帮助"),
    "help.keys": ("Keys", "按键"),
    "help.faq": ("FAQ (from the reference cheat sheet)", "常见问题（来自速查表）"),
    "help.escape": ("Close a window / cancel a measurement", "关闭窗口 / 取消测量"),
    "help.triangle": ("The impossible triangle", "不可能三角"),
    "help.intro": (
        "Walk the steps left to right: choose a scenario, adjust its constraints, give the model's current "
        "numbers, read the plan, export it. Tab moves between fields; ctrl+p opens the command palette.",
        "从左到右依次完成：选择场景、调整约束、给出模型当前指标、查看方案、导出。Tab 在字段间移动；ctrl+p 打开命令面板。",
    ),
    # issue #14: the wizard flow, the trace tree's keys, Textual's own words
    "key.expand": ("Expand", "展开"),
    "key.scroll": ("Scroll", "滚动"),
    "key.down": ("Down", "下移"),
    "key.up": ("Up", "上移"),
    "key.palette_exit": ("Exit the command palette", "关闭命令面板"),
    "quit.title": ("Do you want to quit?", "要退出吗？"),
    "quit.hint": ("Press {keys} to quit the app", "按 {keys} 退出"),
    "constraints.soft": ("soft (prefer)", "软约束（偏好）"),
    "help.question": ("Help (this window)", "帮助（本窗口）"),
    "help.back": ("otherwise back one step", "否则返回上一步"),
    "help.lists": ("Move in a list or the trace", "在列表或规则追踪中移动"),
    "help.trace": ("Trace: expand / show the rule / scroll sideways", "规则追踪：展开 / 查看规则 / 左右翻页"),
    # fields being edited, measuring, the facts a scenario reads (issue #14)
    "fields.invalid_one": (
        "1 field invalid on {step} ({shortcut}): {fields}",
        "{step}（{shortcut}）有 1 个字段无效：{fields}",
    ),
    "fields.invalid_many": (
        "{n} fields invalid on {step} ({shortcut}): {fields}",
        "{step}（{shortcut}）有 {n} 个字段无效：{fields}",
    ),
    "fields.fix_first": (
        "Fix them first: the plan uses only valid values.",
        "请先修正：方案只使用有效的值。",
    ),
    "field.unreadable": ("{file}: cannot read the report ({reason})", "{file}：无法读取报告（{reason}）"),
    "rec.measuring": (
        "Measuring… the plan follows when the measurement finishes.",
        "正在测量……测量完成后显示方案。",
    ),
    "rec.needs": (
        "The plan would change with these facts (each button goes to its field on Baseline, F4)",
        "补充这些事实后方案可能不同（按钮跳转到基线（F4）中对应的字段）",
    ),
    "rec.fact_link": (
        "{techniques}: needs “{fact}” ({path})",
        "{techniques}：需要“{fact}”（{path}）",
    ),
    "rec.unknown_metric": (
        "{metric} is not known, so “{constraint}” cannot be checked:",
        "{metric} 未知，无法检查“{constraint}”：",
    ),
    "rec.type_value": ("type a value", "输入数值"),
    "rec.make_soft": ("make it soft", "改为偏好"),
    "baseline.cancelled_kept": (
        "Measurement cancelled: the earlier values are kept",
        "测量已取消：保留之前的数值",
    ),
    "baseline.other_facts": (
        "Other facts (this scenario's rules do not read them)",
        "其他事实（本场景的规则不读取）",
    ),
}

_FAQ_ZH = (
    ("Q1 延迟高怎么办？", "使用 TensorRT/ONNX Runtime；减少输入尺寸；使用 INT8 量化；换更轻量的模型架构"),
    (
        "Q2 模型太大怎么办？",
        "INT8 量化（4x 压缩）；剪枝（2-3x 压缩）；蒸馏到小模型（10x+）；权重共享/霍夫曼编码",
    ),
    ("Q3 精度掉太多怎么办？", "QAT（量化感知训练）；知识蒸馏；只用 FP16 而不是 INT8；增加校准数据"),
    ("Q4 功耗太高怎么办？", "降低推理频率；INT8 量化；用更小的模型；硬件加速器（NPU/DSP）"),
)
_FAQ_EN = (
    (
        "Q1 Latency too high?",
        "Use TensorRT / ONNX Runtime; shrink the input; quantize to INT8; switch to a lighter architecture",
    ),
    (
        "Q2 Model too big?",
        "INT8 quantization (4x smaller); pruning (2-3x); distil into a small model (10x+); weight sharing / "
        "Huffman coding",
    ),
    (
        "Q3 Accuracy dropped too much?",
        "Quantization-aware training; knowledge distillation; FP16 instead of INT8; more calibration data",
    ),
    (
        "Q4 Power too high?",
        "Run inference less often; INT8; a smaller model; a hardware accelerator (NPU/DSP)",
    ),
)
_TRIANGLE = {
    "en": (
        "You can only pick two: high accuracy + low latency needs more resources (a big GPU); high accuracy + "
        "low resources makes it slower; low latency + low resources costs accuracy."
    ),
    "zh": "你只能选两个！高精度 + 低延迟 = 需要更多资源（大GPU）；高精度 + 低资源 = 延迟会增加；低延迟 + 低资源 = 精度会下降。",
}


def t(key: str, lang: Lang, **values: object) -> str:
    """The string ``key`` in ``lang``, with ``{name}`` fields filled from ``values``."""
    en, zh = _STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def faq(lang: Lang) -> tuple[tuple[str, str], ...]:
    """The reference's FAQ: (question, answers) pairs."""
    return _FAQ_ZH if lang == "zh" else _FAQ_EN


def triangle_text(lang: Lang) -> str:
    """The reference's "impossible triangle" in one paragraph."""
    return _TRIANGLE[lang]


def localize_bindings(node: DOMNode, lang: Lang) -> None:
    """Translate the descriptions of ``node``'s key bindings (written in English) into ``lang``."""
    if lang == "en":
        return
    zh = {en: z for en, z in _STRINGS.values()}
    table = node._bindings.key_to_bindings
    for key, bindings in table.items():
        table[key] = [replace(b, description=zh.get(b.description, b.description)) for b in bindings]


def all_keys() -> frozenset[str]:
    """Every key of the table (for tests)."""
    return frozenset(_STRINGS)


__all__ = ["all_keys", "faq", "localize_bindings", "t", "triangle_text"]
