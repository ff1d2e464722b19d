/**
 * Checks that a trace (shared/explain.ts) never contradicts itself: every inner node's `passed`
 * follows from its children and its `logic`. Shared by the filter agreement suite (workerd) and the
 * validate explanation tests, so both hold traces to one reading of `logic`.
 */
import type { ExplainNode } from '../shared/explain';
import { evaluateLogic, parseLogic } from '../shared/rules/logic';

/** The inconsistencies of a trace, as paths and reasons; empty when every node agrees with its children. */
export function traceInconsistencies(node: ExplainNode, path = node.label): string[] {
  const children = node.children ?? [];
  const problems = children.flatMap((child, i) => traceInconsistencies(child, `${path} > [${i}] ${child.label}`));
  const passes = children.map((c) => c.passed);
  let expected: boolean | undefined;
  switch (node.logic) {
    case undefined:
      // A leaf, or a node that only wraps one trace (a segment judged by its filter).
      if (children.length > 0) {
        if (children.length !== 1) problems.push(`${path}: ${children.length} children and no logic`);
        expected = passes[0];
      }
      break;
    case 'and':
      expected = passes.every(Boolean);
      break;
    case 'or':
      // A filter with no fields matches everyone, whatever its junction.
      expected = node.kind === 'filter' && children.length === 0 ? true : passes.some(Boolean);
      break;
    case 'none':
      expected = !passes.some(Boolean);
      break;
    default: {
      // A rule logic expression over the rule nodes, labelled "rule <key>: <name>".
      const truth = new Map(children.map((c) => [/^rule (\d+)/.exec(c.label)?.[1] ?? '', c.passed]));
      expected = evaluateLogic(parseLogic(node.logic, new Set(truth.keys())), (key) => truth.get(key) === true);
    }
  }
  if (expected !== undefined && expected !== node.passed)
    problems.push(`${path}: passed=${node.passed}, but its children and logic ${node.logic ?? '(one child)'} give ${expected}`);
  if (node.kind === 'condition' && !('actual' in node)) problems.push(`${path}: a condition without the value it read`);
  return problems;
}

/** Every node of a trace, depth first. */
export const traceNodes = (node: ExplainNode): ExplainNode[] => [node, ...(node.children ?? []).flatMap(traceNodes)];
