//! Plan search: subsets of candidate techniques enumerated depth first, each plan's metric intervals predicted,
//! scored and ranked. What the search means (which plans are made, what counts as a regression, the ranking key)
//! is documented in `python/mcm/engine/plan.py`, which prepares a [`Space`] per shape of input; this is the
//! kernel it calls once per advise.
//!
//! Masks are bit sets (`u64`) of candidates (at most [`MAX_CANDIDATES`]), and of limits and tracked metrics (at
//! most [`MAX_METRICS`]: one limit per metric).

use std::cmp::Ordering;
use std::collections::HashMap;

/// The most candidates a space holds (bits of a `u64` mask).
pub const MAX_CANDIDATES: usize = 64;
/// The most tracked metrics, and so limits, a space holds (bits of a `u64` mask).
pub const MAX_METRICS: usize = 64;
/// Core-metric gains are compared in steps of a combined factor of √2.
const GAIN_STEP: f64 = std::f64::consts::LN_2 / 2.0;
/// Relative change of a watched metric within which a step does not make it worse (floating-point noise).
const REGRESSION_TOLERANCE: f64 = 1e-9;

/// How a limit compares a value with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Bound {
    /// The bound written as in the rules (`<`, `<=`, `>`, `>=`).
    pub fn parse(op: &str) -> Option<Bound> {
        match op {
            "<" => Some(Bound::Lt),
            "<=" => Some(Bound::Le),
            ">" => Some(Bound::Gt),
            ">=" => Some(Bound::Ge),
            _ => None,
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Bound::Lt => value < threshold,
            Bound::Le => value <= threshold,
            Bound::Gt => value > threshold,
            Bound::Ge => value >= threshold,
        }
    }
}

/// A constraint on tracked metric `index`: `bit` in the violated mask, which end of the interval it bounds
/// (`upper`: the high one), its test, and (hard limits) the limit and the scale of a shortfall.
#[derive(Clone, Debug)]
pub struct Limit {
    pub bit: u64,
    pub index: usize,
    pub upper: bool,
    pub bound: Bound,
    pub threshold: f64,
    pub value: f64,
    pub scale: f64,
}

/// One effect on a tracked metric: a factor (`scale`) or a shift, as a range `[low, high]`.
#[derive(Clone, Copy, Debug)]
pub struct Effect {
    pub index: usize,
    pub scale: bool,
    pub low: f64,
    pub high: f64,
}

/// A step's effects: plain non-negative factors on metrics valid on `[0, inf)` (no clamping), and the rest.
#[derive(Clone, Debug, Default)]
pub struct Step {
    pub factors: Vec<(usize, f64, f64)>,
    pub general: Vec<Effect>,
}

/// A candidate as the search adds it: its step, difficulty, whether the decision tables recommend it, the
/// candidates it excludes, and its steps in combination (`(partner bit, step)`: the first partner in the plan wins).
#[derive(Clone, Debug)]
pub struct Move {
    pub name: String,
    pub step: Step,
    pub difficulty: i64,
    pub recommended: bool,
    pub excludes: u64,
    pub combined: Vec<(u64, Step)>,
}

/// What a search explores, whatever the measured numbers: the candidates in step order and the layout of the
/// tracked metrics (valid ranges, limits, core and watched metrics).
#[derive(Clone, Debug)]
pub struct Space {
    pub moves: Vec<Move>,
    /// By limit: the candidates (bits) that may improve it.
    pub improvers: Vec<u64>,
    pub floor: Vec<f64>,
    pub ceiling: Vec<f64>,
    /// The accuracy_drop index when it is recomputed from accuracy after each step.
    pub drop: Option<usize>,
    pub accuracy: usize,
    pub hard: Vec<Limit>,
    pub soft: Vec<Limit>,
    /// Core metrics: `(index, lower is better)`.
    pub core: Vec<(usize, bool)>,
    /// The metrics no step may make worse: `(index, lower is better)`.
    pub watched: Vec<(usize, bool)>,
}

/// One explored plan: the candidates in it (mask and step order), its final intervals and its scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub mask: u64,
    pub steps: Vec<usize>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    pub difficulty: i64,
    pub recommended: i64,
    /// Limits missed pessimistically (bits); the hard ones counted, with their total relative shortfall.
    pub violated: u64,
    pub violations: u32,
    pub shortfall: f64,
    /// Soft limits met.
    pub soft: u32,
    pub gain: f64,
    pub gain_steps: i64,
    pub risk: f64,
    /// The watched metrics (bits of tracked indices) its last step makes worse pessimistically: a plan with a
    /// regression at any step is not extended, so only the last can have one.
    pub worse: u64,
    /// The candidates its steps exclude (bits).
    pub forbidden: u64,
}

impl Node {
    /// Every hard constraint met pessimistically.
    pub fn feasible(&self) -> bool {
        self.violations == 0
    }

    /// A step makes a watched metric worse.
    pub fn regress(&self) -> bool {
        self.worse != 0
    }
}

/// What a search returns: the plans in the order explored, the kept ones ranked best first (indices), and
/// whether the node cap cut the enumeration short.
#[derive(Clone, Debug)]
pub struct Explored {
    pub nodes: Vec<Node>,
    pub ranked: Vec<usize>,
    pub truncated: bool,
    by_mask: HashMap<u64, usize>,
}

impl Explored {
    /// The explored plan with these candidates.
    pub fn find(&self, mask: u64) -> Option<usize> {
        self.by_mask.get(&mask).copied()
    }
}

/// The parts of a score that depend on the starting values, fixed once per search.
struct Scorer<'a> {
    space: &'a Space,
    core: Vec<(usize, bool, f64)>,
    start_accuracy: f64,
}

impl Scorer<'_> {
    fn score(&self, node: &mut Node, parent: Option<&Node>) {
        let (lo, hi) = (&node.lo, &node.hi);
        let (mut violated, mut violations, mut soft, mut shortfall) = (0u64, 0u32, 0u32, 0.0f64);
        for l in &self.space.hard {
            let value = if l.upper { hi[l.index] } else { lo[l.index] };
            if !l.bound.holds(value, l.threshold) {
                violated |= l.bit;
                violations += 1;
                shortfall += (value - l.value).abs() / l.scale;
            }
        }
        for l in &self.space.soft {
            if l.bound.holds(if l.upper { hi[l.index] } else { lo[l.index] }, l.threshold) {
                soft += 1;
            } else {
                violated |= l.bit;
            }
        }
        let mut gain = 0.0;
        for &(i, lower, start) in &self.core {
            if lower {
                if hi[i] > 0.0 {
                    gain += (start / hi[i]).ln();
                }
            } else if lo[i] > 0.0 {
                gain += (lo[i] / start).ln();
            }
        }
        let risk = self.start_accuracy - lo[self.space.accuracy];
        node.risk = if risk < 0.0 { 0.0 } else { risk };
        node.worse = parent.map_or(0, |p| self.worse(p, node));
        node.violated = violated;
        node.violations = violations;
        node.shortfall = shortfall;
        node.soft = soft;
        node.gain = gain;
        node.gain_steps = (gain / GAIN_STEP + 1e-9).floor() as i64;
    }

    /// The watched metrics (bits) that are worse pessimistically after a step than before it, beyond a relative
    /// [`REGRESSION_TOLERANCE`].
    fn worse(&self, before: &Node, after: &Node) -> u64 {
        let mut worse = 0;
        for &(i, lower) in &self.space.watched {
            let made_worse = if lower {
                let b = before.hi[i];
                after.hi[i] - b > b.abs() * REGRESSION_TOLERANCE
            } else {
                let b = before.lo[i];
                b - after.lo[i] > b.abs() * REGRESSION_TOLERANCE
            };
            if made_worse {
                worse |= 1 << i;
            }
        }
        worse
    }
}

impl Space {
    /// Enumerate, score and rank plans from the measured values `start` (by tracked metric; `base`: the
    /// baseline accuracy accuracy_drop is recomputed from), at most `max_steps` steps and `max_nodes` plans.
    pub fn search(&self, start: &[f64], base: f64, max_steps: usize, max_nodes: usize) -> Explored {
        let scorer = Scorer {
            space: self,
            core: self
                .core
                .iter()
                .filter(|&&(i, _)| start[i] > 0.0)
                .map(|&(i, lower)| (i, lower, start[i]))
                .collect(),
            start_accuracy: start[self.accuracy],
        };
        let mut root = self.node(0, Vec::new(), start.to_vec(), start.to_vec(), 0, 0, 0);
        scorer.score(&mut root, None);
        let mut nodes: Vec<Node> = Vec::new();
        let mut stack = vec![root];
        let mut truncated = false;
        while let Some(plan) = stack.pop() {
            if nodes.len() >= max_nodes {
                truncated = true;
                break;
            }
            self.extend(&plan, &scorer, base, max_steps, &mut stack);
            nodes.push(plan);
        }
        let by_mask = nodes.iter().enumerate().map(|(k, n)| (n.mask, k)).collect();
        let mut explored = Explored { nodes, ranked: Vec::new(), truncated, by_mask };
        explored.ranked = self.rank(&explored);
        explored
    }

    /// Push `plan`'s one-step extensions (a candidate after its last step, not excluded by its steps, that may
    /// improve a limit it misses), unless it meets every limit, is long enough or regresses.
    fn extend(&self, plan: &Node, scorer: &Scorer<'_>, base: f64, max_steps: usize, stack: &mut Vec<Node>) {
        if plan.violated == 0 || plan.steps.len() >= max_steps || plan.regress() {
            return;
        }
        let after = match plan.steps.last() {
            Some(&last) if last + 1 >= MAX_CANDIDATES => u64::MAX,
            Some(&last) => (1u64 << (last + 1)) - 1,
            None => 0,
        };
        let mut helpers = 0u64;
        for (k, improvers) in self.improvers.iter().enumerate() {
            if plan.violated >> k & 1 == 1 {
                helpers |= improvers;
            }
        }
        let mut allowed = helpers & !plan.forbidden & !after;
        while allowed != 0 {
            let j = allowed.trailing_zeros() as usize;
            allowed &= allowed - 1;
            let m = &self.moves[j];
            let step =
                m.combined.iter().find(|(partner, _)| plan.mask & partner != 0).map_or(&m.step, |(_, s)| s);
            let (lo, hi) = self.apply(&plan.lo, &plan.hi, step, base);
            let mut steps = plan.steps.clone();
            steps.push(j);
            let mut child = self.node(
                plan.mask | 1 << j,
                steps,
                lo,
                hi,
                plan.difficulty + m.difficulty,
                plan.recommended + i64::from(m.recommended),
                plan.forbidden | m.excludes,
            );
            scorer.score(&mut child, Some(plan));
            stack.push(child);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn node(
        &self,
        mask: u64,
        steps: Vec<usize>,
        lo: Vec<f64>,
        hi: Vec<f64>,
        difficulty: i64,
        recommended: i64,
        forbidden: u64,
    ) -> Node {
        Node {
            mask,
            steps,
            lo,
            hi,
            difficulty,
            recommended,
            violated: 0,
            violations: 0,
            shortfall: 0.0,
            soft: 0,
            gain: 0.0,
            gain_steps: 0,
            risk: 0.0,
            worse: 0,
            forbidden,
        }
    }

    /// The intervals after one step: factors multiply (interval product), shifts add, then each metric is
    /// clamped to its valid range; accuracy_drop follows accuracy.
    fn apply(&self, lo: &[f64], hi: &[f64], step: &Step, base: f64) -> (Vec<f64>, Vec<f64>) {
        let (mut lo, mut hi) = (lo.to_vec(), hi.to_vec());
        for &(i, a, b) in &step.factors {
            lo[i] *= a;
            hi[i] *= b;
        }
        for e in &step.general {
            let (x, y) = (lo[e.index], hi[e.index]);
            let (x, y) = if !e.scale {
                (x + e.low, y + e.high)
            } else if x >= 0.0 && e.low >= 0.0 {
                (x * e.low, y * e.high)
            } else {
                let ends = [x * e.low, x * e.high, y * e.low, y * e.high];
                (
                    ends.iter().copied().fold(f64::INFINITY, f64::min),
                    ends.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                )
            };
            let (floor, ceiling) = (self.floor[e.index], self.ceiling[e.index]);
            lo[e.index] = clamp(x, floor, ceiling);
            hi[e.index] = clamp(y, floor, ceiling);
        }
        if let Some(drop) = self.drop {
            let acc = self.accuracy;
            (lo[drop], hi[drop]) = (base - hi[acc], base - lo[acc]);
        }
        (lo, hi)
    }

    /// The plans to show, best first: when some plan is feasible, all but the empty one and the feasible ones
    /// that a feasible proper subset matches on soft limits met; else all but the empty one. The empty plan ("no
    /// change", the root) is shown when it is feasible, when every other plan has a regression (doing nothing is
    /// better than making what matters worse: it ranks first), or when it is the only one. Sorted by the ranking
    /// key.
    fn rank(&self, explored: &Explored) -> Vec<usize> {
        let nodes = &explored.nodes;
        let mut keep: Vec<usize> = if nodes.iter().any(Node::feasible) {
            self.undominated(explored)
        } else {
            (0..nodes.len()).filter(|&k| !nodes[k].steps.is_empty()).collect()
        };
        let root = nodes.iter().position(|n| n.steps.is_empty());
        if let Some(root) = root {
            let all_regress = keep.iter().all(|&k| nodes[k].regress());
            if all_regress && !keep.contains(&root) {
                keep.push(root);
            }
        }
        keep.sort_by(|&a, &b| self.compare(&nodes[a], &nodes[b]));
        keep
    }

    fn undominated(&self, explored: &Explored) -> Vec<usize> {
        let nodes = &explored.nodes;
        let soft_limits = self.soft.len() as i64;
        let mut order: Vec<usize> = (0..nodes.len()).collect();
        order.sort_by_key(|&k| nodes[k].steps.len());
        // mask -> most soft limits met by a feasible proper subset (-1: none)
        let mut best_below: HashMap<u64, i64> = HashMap::with_capacity(nodes.len());
        let mut keep = Vec::new();
        for k in order {
            let node = &nodes[k];
            let mut best = -1i64;
            let mut rest = node.mask;
            while rest != 0 {
                let bit = rest & rest.wrapping_neg();
                rest ^= bit;
                match explored.find(node.mask ^ bit) {
                    // never explored: a smaller plan inside met every constraint (or the cap hit)
                    None => best = best.max(if explored.truncated { -1 } else { soft_limits }),
                    Some(s) => {
                        let sub = &nodes[s];
                        let met = if sub.feasible() { i64::from(sub.soft) } else { -1 };
                        best = best.max(met).max(best_below[&sub.mask]);
                    }
                }
            }
            best_below.insert(node.mask, best);
            let dominated = node.feasible() && best >= i64::from(node.soft);
            if !dominated && (!node.steps.is_empty() || node.feasible()) {
                keep.push(k);
            }
        }
        keep
    }

    /// The ranking key: no regression; hard limits met (then fewest violated, smallest shortfall); soft limits
    /// met; recommended techniques; core-metric gain in steps; accuracy risk; difficulty; length; names.
    fn compare(&self, a: &Node, b: &Node) -> Ordering {
        let float = |x: f64, y: f64| x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        a.regress()
            .cmp(&b.regress())
            .then((a.violations > 0).cmp(&(b.violations > 0)))
            .then(a.violations.cmp(&b.violations))
            .then_with(|| float(a.shortfall, b.shortfall))
            .then(b.soft.cmp(&a.soft))
            .then(b.recommended.cmp(&a.recommended))
            .then(b.gain_steps.cmp(&a.gain_steps))
            .then_with(|| float(a.risk, b.risk))
            .then(a.difficulty.cmp(&b.difficulty))
            .then(a.steps.len().cmp(&b.steps.len()))
            .then_with(|| {
                let names =
                    |n: &Node| n.steps.iter().map(|&j| self.moves[j].name.as_str()).collect::<Vec<_>>();
                names(a).cmp(&names(b))
            })
    }
}

fn clamp(x: f64, floor: f64, ceiling: f64) -> f64 {
    if x < floor {
        floor
    } else if x > ceiling {
        ceiling
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    /// latency (lower better, [0, inf)), throughput (higher, [0, inf)), accuracy (higher, [0, 1]).
    fn space(moves: Vec<Move>, hard: Vec<Limit>, watched: Vec<(usize, bool)>) -> Space {
        let all = if moves.len() >= 64 { u64::MAX } else { (1u64 << moves.len()) - 1 };
        let improvers = hard.iter().map(|_| all).collect();
        Space {
            moves,
            improvers,
            floor: vec![0.0, 0.0, 0.0],
            ceiling: vec![f64::INFINITY, f64::INFINITY, 1.0],
            drop: None,
            accuracy: 2,
            hard,
            soft: Vec::new(),
            core: vec![(0, true)],
            watched,
        }
    }

    fn general(effects: &[(bool, f64, f64)]) -> Step {
        let general = effects
            .iter()
            .enumerate()
            .map(|(index, &(scale, low, high))| Effect { index, scale, low, high })
            .collect();
        Step { factors: Vec::new(), general }
    }

    fn latency_factor(name: &str, low: f64, high: f64) -> Move {
        Move {
            name: name.into(),
            step: Step { factors: vec![(0, low, high)], general: Vec::new() },
            difficulty: 1,
            recommended: false,
            excludes: 0,
            combined: Vec::new(),
        }
    }

    fn latency_below(limit: f64) -> Limit {
        Limit {
            bit: 1,
            index: 0,
            upper: true,
            bound: Bound::Lt,
            threshold: limit,
            value: limit,
            scale: limit,
        }
    }

    const START: [f64; 3] = [100.0, 50.0, 0.8];

    fn run(s: &Space, steps: &[Step]) -> (Vec<f64>, Vec<f64>) {
        let (mut lo, mut hi) = (START.to_vec(), START.to_vec());
        for step in steps {
            (lo, hi) = s.apply(&lo, &hi, step, 0.0);
        }
        (lo, hi)
    }

    fn random_effect(rng: &mut Rng) -> (bool, f64, f64) {
        let scale = rng.below(2) == 0;
        let draw = |rng: &mut Rng| if scale { 0.05 + rng.unit() * 3.95 } else { -0.2 + rng.unit() * 0.4 };
        let (a, b) = (draw(rng), draw(rng));
        (scale, a.min(b), a.max(b))
    }

    fn random_plan(rng: &mut Rng) -> Vec<[(bool, f64, f64); 3]> {
        (0..1 + rng.below(4)).map(|_| [random_effect(rng), random_effect(rng), random_effect(rng)]).collect()
    }

    fn steps(plan: &[[(bool, f64, f64); 3]]) -> Vec<Step> {
        plan.iter().map(|effects| general(effects)).collect()
    }

    #[test]
    fn intervals_are_ordered_and_contain_every_outcome() {
        let s = space(Vec::new(), Vec::new(), Vec::new());
        let mut rng = Rng::new(11);
        for _ in 0..2000 {
            let plan = random_plan(&mut rng);
            let (lo, hi) = run(&s, &steps(&plan));
            // any point inside every effect's range lands inside the predicted interval
            let points: Vec<[(bool, f64, f64); 3]> = plan
                .iter()
                .map(|effects| {
                    effects.map(|(scale, a, b)| {
                        let v = a + rng.unit() * (b - a);
                        (scale, v, v)
                    })
                })
                .collect();
            let (plo, phi) = run(&s, &steps(&points));
            for i in 0..3 {
                assert!(lo[i] <= hi[i], "{plan:?}");
                assert!(lo[i] - 1e-9 <= plo[i] && plo[i] == phi[i] && phi[i] <= hi[i] + 1e-9, "{plan:?}");
            }
        }
    }

    #[test]
    fn intervals_are_monotone_under_composition() {
        // Widening any step's range widens the result; a factor >= 1 never narrows a positive interval.
        let s = space(Vec::new(), Vec::new(), Vec::new());
        let mut rng = Rng::new(12);
        for _ in 0..2000 {
            let plan = random_plan(&mut rng);
            let (lo, hi) = run(&s, &steps(&plan));
            let mut wider = plan.clone();
            let k = rng.below(plan.len());
            wider[k] =
                plan[k].map(
                    |(scale, a, b)| {
                        if scale {
                            (scale, a * 0.9, b * 1.1)
                        } else {
                            (scale, a - 0.01, b + 0.01)
                        }
                    },
                );
            let (wlo, whi) = run(&s, &steps(&wider));
            let extra = [random_effect(&mut rng), random_effect(&mut rng), random_effect(&mut rng)];
            let mut longer = plan.clone();
            longer.push(extra);
            let (xlo, xhi) = run(&s, &steps(&longer));
            for i in 0..3 {
                assert!(wlo[i] <= lo[i] + 1e-9 && whi[i] >= hi[i] - 1e-9, "{plan:?}");
                let unclamped = [lo[i], hi[i], xlo[i], xhi[i]].iter().all(|&v| 0.0 < v && v < s.ceiling[i]);
                if unclamped && extra[i].0 && extra[i].1 >= 1.0 {
                    assert!(xhi[i] - xlo[i] >= hi[i] - lo[i] - 1e-9, "{plan:?} {extra:?}");
                }
            }
        }
    }

    fn names(s: &Space, explored: &Explored, k: usize) -> Vec<String> {
        explored.nodes[k].steps.iter().map(|&j| s.moves[j].name.clone()).collect()
    }

    #[test]
    fn each_subset_is_made_once_from_its_prefix_and_a_feasible_plan_is_not_extended() {
        let moves =
            vec![latency_factor("a", 0.5, 0.5), latency_factor("b", 0.5, 0.5), latency_factor("c", 0.1, 0.1)];
        let s = space(moves, vec![latency_below(30.0)], vec![(0, true)]);
        let explored = s.search(&START, 0.0, 3, 4096);
        let masks: Vec<u64> = explored.nodes.iter().map(|n| n.mask).collect();
        // depth first, the highest candidate popped first; c (10 ms) and a + b (25 ms) meet 30 ms and end their
        // branch, so a + b + c is never made; b + c and a + c, feasible with a feasible c inside, are not ranked
        assert_eq!(masks, vec![0, 0b100, 0b010, 0b110, 0b001, 0b101, 0b011]);
        let ranked: Vec<Vec<String>> = explored.ranked.iter().map(|&k| names(&s, &explored, k)).collect();
        assert_eq!(
            ranked,
            vec![vec!["c".to_string()], vec!["a".into(), "b".into()], vec!["a".into()], vec!["b".into()]]
        );
        assert!(!explored.truncated);
    }

    #[test]
    fn a_regression_ranks_last_and_is_not_extended() {
        let mut slower = latency_factor("slower", 1.01, 1.01);
        slower.step.factors.push((1, 2.0, 2.0));
        let noisy = latency_factor("noisy", 1.0 + 1e-12, 1.0 + 1e-12);
        let s = space(
            vec![slower, noisy, latency_factor("z", 0.9, 0.9)],
            vec![latency_below(10.0)],
            vec![(0, true)],
        );
        let explored = s.search(&START, 0.0, 3, 4096);
        let slower_first = explored.nodes.iter().filter(|n| n.steps.first() == Some(&0)).collect::<Vec<_>>();
        assert_eq!(slower_first.len(), 1, "a plan with a regression is not extended");
        assert_eq!(slower_first[0].worse, 1);
        let last = *explored.ranked.last().unwrap();
        assert_eq!(names(&s, &explored, last), vec!["slower"]);
        let noisy = explored.find(0b010).unwrap();
        assert!(!explored.nodes[noisy].regress(), "within the tolerance");
    }

    #[test]
    fn a_combination_replaces_the_step_when_its_partner_came_first() {
        let mut engine = latency_factor("engine", 0.5, 0.5);
        engine.combined = vec![(0b01, Step { factors: vec![(0, 0.25, 0.25)], general: Vec::new() })];
        let s = space(vec![latency_factor("int8", 0.5, 0.5), engine], vec![latency_below(1.0)], vec![]);
        let explored = s.search(&START, 0.0, 3, 4096);
        let both = &explored.nodes[explored.find(0b11).unwrap()];
        assert_eq!(both.hi[0], 100.0 * 0.5 * 0.25);
        assert_eq!(explored.nodes[explored.find(0b10).unwrap()].hi[0], 50.0);
    }

    #[test]
    fn the_node_cap_truncates_and_keeps_the_explored_order() {
        let moves = (0..10).map(|k| latency_factor(&format!("t{k}"), 0.9, 0.9)).collect();
        let s = space(moves, vec![latency_below(1.0)], vec![]);
        let full = s.search(&START, 0.0, 3, 4096);
        assert_eq!(full.nodes.len(), 1 + 10 + 45 + 120);
        let cut = s.search(&START, 0.0, 3, 20);
        assert!(cut.truncated && cut.nodes.len() == 20);
        assert_eq!(cut.nodes, full.nodes[..20]);
    }

    #[test]
    fn the_last_candidate_of_a_full_mask_is_extended_without_overflow() {
        let moves = (0..MAX_CANDIDATES).map(|k| latency_factor(&format!("t{k:02}"), 0.99, 0.99)).collect();
        let s = space(moves, vec![latency_below(1.0)], vec![]);
        let explored = s.search(&START, 0.0, 2, 100_000);
        assert_eq!(explored.nodes.len(), 1 + 64 + 64 * 63 / 2);
    }
}
