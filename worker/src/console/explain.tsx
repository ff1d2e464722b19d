/** @module An explanation tree (shared/explain.ts) as nested lists: what was tested, what was read, pass or fail. */
import type { FC } from 'hono/jsx';
import type { ExplainNode } from '../../../shared/explain';

const show = (value: unknown): string =>
  value === undefined ? '' : value === null ? 'nothing (null)' : typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);

const Node: FC<{ node: ExplainNode }> = ({ node }) => (
  <li data-passed={String(node.passed)}>
    <span class={node.passed ? 'pass' : 'fail'}>{node.passed ? 'Pass' : 'Fail'}</span> <strong>{node.label}</strong>
    {node.field !== undefined && (
      <>
        {' '}
        field <code>{node.field}</code>
      </>
    )}
    {node.operator !== undefined && (
      <>
        {' '}
        operator <code>{node.operator}</code>
      </>
    )}
    {node.expected !== undefined && (
      <>
        {' '}
        expected <code>{show(node.expected)}</code>
      </>
    )}
    {node.actual !== undefined && (
      <>
        {' '}
        actual <code>{show(node.actual)}</code>
      </>
    )}
    {node.logic !== undefined && (
      <>
        {' '}
        combined by <code>{node.logic}</code>
      </>
    )}
    {node.detail && <span class="muted"> ({node.detail})</span>}
    {node.children && node.children.length > 0 && (
      <ul>
        {node.children.map((child) => (
          <Node node={child} />
        ))}
      </ul>
    )}
  </li>
);

export const ExplainTree: FC<{ node: ExplainNode; label: string }> = ({ node, label }) => (
  <ul class="tree" aria-label={label} data-testid="explain-tree">
    <Node node={node} />
  </ul>
);

/** Finds explanation trees anywhere in an answer (a validation puts one per redeemable or one at the top). */
export function findExplanations(value: unknown, depth = 0): ExplainNode[] {
  if (depth > 6 || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v) => findExplanations(v, depth + 1));
  const record = value as Record<string, unknown>;
  const own = record.explanation;
  if (own && typeof own === 'object' && typeof (own as ExplainNode).kind === 'string') return [own as ExplainNode];
  return Object.entries(record).flatMap(([key, v]) => (key === 'explanation' ? [] : findExplanations(v, depth + 1)));
}
