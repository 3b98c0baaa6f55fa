"""The engine's messages in Chinese: a template for every id of :data:`mcm.engine.messages.TEMPLATES`, with the
same fields (tests check both). Identifiers, metric names, positions and numbers stay as the engine gives them."""

from __future__ import annotations

from mcm.engine.messages import Catalogue

TEMPLATES: dict[str, str] = {
    # 条件解释中的值与固定用语
    "value.true": "真",
    "value.false": "假",
    "value.unknown": "未知",
    "explain.not_given": "{path}（未给出）",
    "explain.not_evaluated": "（{source}：未求值）",
    "explain.error": "{source} → 错误：{reason}",
    "explain.outcome": "{outcome}",
    "explain.skipped": "{source}（未求值）",
    "outcome.unknown": "未知：{facts:，}",
    "outcome.fact_not_given": "事实 {fact} 未给出",
    "kind.flag": "布尔值",
    "kind.text": "文本",
    "kind.number": "数值",
    "kind.unknown": "未知值",
    "eval.not_a_condition": "条件必须为真或假，实际是{kind}",
    "eval.needs_numbers": "{what} 需要数值，实际是{kind}",
    "eval.needs_flag": "'{what}' 需要真或假，实际是{kind}",
    "eval.compares": "'{op}' 在比较{left}与{right}",
    "eval.division_by_zero": "除以零",
    "eval.not_finite": "结果不是有限数值",
    # 决策表
    "trace.skipped_first": "已跳过（策略 first）：规则 {rule} 已触发",
    "trace.rule_error": "{pos}：规则 {rule} 无法求值：{problem}",
    "trace.none_usable": "其推荐的技术在此均不可用：{refused:；}",
    "trace.refusals": "不可用：{refused:；}",
    "trace.refused": "{technique}：{why}",
    "trace.otherwise_rule_fired": "已跳过：规则 {rule} 已触发",
    "trace.otherwise_held": "已跳过：已有规则的条件成立",
    "trace.otherwise_unknown": "已跳过：{rules:、} 无法求值（请补充缺失的事实）",
    "trace.otherwise_fired": "没有规则的条件成立",
    # 技术
    "technique.unmet": "前提条件不满足：{outcome}",
    "technique.because": "{text}（{reason}）",
    "technique.caveat_applies": "附加条件 {condition} 成立",
    "technique.caveat_may_apply": "附加条件 {condition} 可能成立（{missing:、} 未给出）",
    "technique.caveat_error": "{technique}：{pos} 处的附加条件无法求值：{reason}",
    "technique.assumes": "假定 {fact} = {value}（未给出）：{reason}",
    "technique.combined": "方案中已先用 {technique}",
    "technique.caveat_mixed": "某个附加条件在同一指标上混用了倍数与增量，未知情形已略去",
    # 事实与引擎
    "facts.better_side": "约束 {constraint} 限制的是 {metric} 更优的一侧",
    "facts.never_holds": "约束 {constraint} 永远无法满足：{why}",
    "facts.unknown_value": "{fact} = {value} 不是已知取值（{known:, }）",
    "engine.may_not_apply": "推荐的 {technique} 可能不适用：{note}",
    "engine.unchecked": "硬约束 {constraint} 无法检查：未给出 measured.{metric}",
    "engine.truncated": "方案搜索在 {plans} 个方案后停止，其余方案未被考虑",
    "engine.too_many_candidates": "方案搜索最多考虑 {most} 个可能有帮助的技术（按步骤顺序取前面的）：{left:、} 未被考虑",
    # 约束检查
    "check.unknown": "{constraint}：未知（未给出 measured.{metric}）",
    "check.met": "{metric} {value} {op} {limit}：满足",
    "check.violated": "{metric} {value} {op} {limit}：违反",
    "check.ratio": "{text}（为限制的 {ratio:.3g} 倍）",
    # 未选原因
    "why_not.excluded": "与首选方案中的 {blocker} 互斥",
    "why_not.nothing_to_improve": "无需改进：有值的约束均已满足，且没有测量核心指标",
    "why_not.no_gain": "不能改善任何未满足的指标或核心指标（{targets:，}）",
    "why_not.target_down": "{metric} 降低",
    "why_not.target_up": "{metric} 提高",
    "why_not.not_needed": "不需要：首选方案（{plan}）不用它即可满足全部硬约束",
    "why_not.ranked": "包含它的最佳方案（{plan}）排在第 {rank} 位",
    "why_not.cut_short": "不在任何已排序的方案中：搜索被提前终止",
    "why_not.no_plan_keeps": "不在任何已排序的方案中：步数限制内没有保留它的方案",
    "plan.no_change": "不做改动",
    "plan.steps": "{techniques: + }",
    # 不可行
    "infeasible.parts": "{parts:；}",
    "infeasible.none": "悲观估计下没有方案能满足全部硬约束",
    "infeasible.measure": "请测量 {metrics:, }（这些硬约束缺少测量值）",
    "infeasible.supply": "请给出 {fact}：有了它就有方案能满足约束（{techniques:, } 需要它）",
    "infeasible.smallest": "最小放宽：{relax:；}（配合 {plan}）",
    "infeasible.relax": "将 {metric} {op} {old} 放宽为 {op} {new}（{percent:+.1f} %）",
    "corner.accuracy": "精度",
    "corner.latency": "延迟",
    "corner.resources": "资源",
    "corners.and": "{corners:和}",
    "triangle.pair_accuracy_latency": "高精度 + 低延迟需要更多资源（更大的 GPU）",
    "triangle.pair_accuracy_resources": "高精度 + 低资源会使延迟变长",
    "triangle.pair_latency_resources": "低延迟 + 低资源会使精度下降",
    "triangle.pair": "不可能三角（精度、延迟、资源：三选二）：{pair}",
    "triangle.gives_up": "不可能三角（精度、延迟、资源：三选二）：三者都被约束；最小放宽放弃了{corner}，因为{pair}",
    "triangle.loosens": "不可能三角（精度、延迟、资源：三选二）：三者都被约束；最小放宽放松了{dropped}，保留了{kept}",
    "triangle.relax_one": "不可能三角（精度、延迟、资源：三选二）：三者都被约束；请放宽其中一个",
    "triangle.none": "不属于三角权衡（受约束：{held:, }）：已知技术达不到限制；更轻量的架构或其他硬件或许可以",
    "triangle.held_none": "无",
    # 问题 #12：专家愿意签字的建议
    "why_not.ranked_worse": "包含它的最佳方案（{plan}）排在第 {rank} 位：它会使 {metrics:、} 变差",
    "infeasible.none_without_regression": (
        "悲观估计下，不使核心指标或未满足的指标变差的方案都无法满足全部硬约束（{plan} 能满足，但会使 {metrics:、} 变差）"
    ),
    "plan.left_out": "未列入方案 {rank}：{why}",
    "plan.left_out_give": "未列入方案 {rank}：{why}；请给出 {options: }",
    "engine.unread_fact": "{fact} 未被这些规则中的任何规则读取：给出它不会改变任何结果",
}

CHINESE = Catalogue("zh", TEMPLATES)

__all__ = ["CHINESE", "TEMPLATES"]
