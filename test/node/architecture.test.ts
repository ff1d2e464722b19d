import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The folder map, checked from the source: worker/src's folders depend on each other one way
// (entry points: routes, consumers, cron -> services -> db / queue -> lib / shared), shared/ is
// pure, and SQL is written only in worker/src/db. A newcomer can then read the code top-down, and a
// change in a lower folder never has to look up. These tests read the files as text: no code runs.

const ROOT = resolve(__dirname, '../..');
const WORKER = join(ROOT, 'worker/src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * The source with its comments blanked (newlines kept, so line numbers hold), so that a path or a
 * statement quoted in prose is not taken for code. A small scanner, not a regex: `/v1/*` in a
 * string or `//` in a URL must not open a comment. Strings, templates (with their `${}` code) and
 * regex literals are kept as they are.
 */
function code(path: string): string {
  const src = readFileSync(path, 'utf8');
  let out = '';
  let i = 0;
  // What the scanner is inside: code at a template's `${` depth, or a template's text.
  const stack: ('code' | 'template')[] = ['code'];
  let braces: number[] = [0];
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  /** Whether a `/` here starts a regex literal (after an operator or keyword), not a division. */
  const regexMayStart = () => /(?:^|[=(,:;!&|?{}[+\-*%<>~^]|\breturn|\btypeof)\s*$/.test(out.slice(-40));
  while (i < src.length) {
    const c = src[i] as string;
    const next = src[i + 1];
    if (stack.at(-1) === 'template') {
      if (c === '\\') {
        out += src.slice(i, i + 2);
        i += 2;
      } else if (c === '`') {
        out += c;
        i++;
        stack.pop();
      } else if (c === '$' && next === '{') {
        out += '${';
        i += 2;
        stack.push('code');
        braces.push(0);
      } else {
        out += c;
        i++;
      }
      continue;
    }
    if (c === '/' && next === '/') {
      const end = src.indexOf('\n', i);
      const stop = end === -1 ? src.length : end;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"' || (c === '/' && regexMayStart())) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n' && (src[j] !== c || inClass)) {
        if (src[j] === '\\') j++;
        else if (c === '/' && src[j] === '[') inClass = true;
        else if (c === '/' && src[j] === ']') inClass = false;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (c === '`') {
      out += c;
      i++;
      stack.push('template');
    } else {
      if (c === '{') braces = [...braces.slice(0, -1), (braces.at(-1) ?? 0) + 1];
      if (c === '}') {
        if (braces.at(-1) === 0 && stack.length > 1) {
          stack.pop();
          braces = braces.slice(0, -1);
          out += c;
          i++;
          continue;
        }
        braces = [...braces.slice(0, -1), (braces.at(-1) ?? 0) - 1];
      }
      out += c;
      i++;
    }
  }
  return out;
}

/** Every module a file imports, resolved to an absolute path: `import … from`, `export … from`, `import '…'` and `import('…')`. */
function imports(path: string): string[] {
  const text = code(path);
  const specifiers = [
    ...text.matchAll(/\b(?:import|export)\s+(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]/g),
    ...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] as string);
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(path), s));
}

/** The unit of worker/src a file belongs to: its top folder, or the file itself at the top (app.ts, env.ts, errors.ts, …). */
const unitOf = (path: string): string => {
  const parts = relative(WORKER, path).split(sep);
  return parts.length > 1 ? `${parts[0]}/` : (parts[0] as string).replace(/\.tsx?$/, '');
};
const inside = (path: string, dir: string): boolean => !relative(dir, path).startsWith('..');
const show = (path: string): string => relative(ROOT, path).split(sep).join('/');

/** The import edges between units of worker/src, each with the imports (file -> module) that make it. */
function unitEdges(): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(WORKER)) {
    for (const target of imports(file)) {
      if (!inside(target, WORKER)) continue;
      const from = unitOf(file);
      const to = unitOf(target);
      if (from === to) continue;
      const byTarget = edges.get(from) ?? new Map<string, string[]>();
      edges.set(from, byTarget);
      byTarget.set(to, [...(byTarget.get(to) ?? []), `${show(file)} -> ${show(target)}`]);
    }
  }
  return edges;
}

describe('worker/src folder dependencies', () => {
  const edges = unitEdges();

  it('the scan sees the layers (a broken scan would pass everything below)', () => {
    expect(sourceFiles(WORKER).length).toBeGreaterThan(100);
    expect([...(edges.get('routes/')?.keys() ?? [])]).toEqual(expect.arrayContaining(['services/', 'schemas/']));
    expect([...(edges.get('services/')?.keys() ?? [])]).toEqual(expect.arrayContaining(['db/', 'queue/']));
    expect([...(edges.get('consumers/')?.keys() ?? [])]).toContain('services/');
  });

  it('no two folders import each other', () => {
    const twoWay: string[] = [];
    for (const [a, targets] of edges) {
      for (const [b, there] of targets) {
        const back = edges.get(b)?.get(a);
        if (back && a < b) twoWay.push(`${a} <-> ${b}:\n    ${[...there, ...back].join('\n    ')}`);
      }
    }
    expect(twoWay, twoWay.join('\n')).toEqual([]);
  });

  it('no longer loop either (a -> b -> c -> a)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (unit: string, path: string[]): void => {
      if (state.get(unit) === 'done') return;
      if (state.get(unit) === 'open') {
        cycles.push([...path.slice(path.indexOf(unit)), unit].join(' -> '));
        return;
      }
      state.set(unit, 'open');
      for (const next of edges.get(unit)?.keys() ?? []) visit(next, [...path, unit]);
      state.set(unit, 'done');
    };
    for (const unit of edges.keys()) visit(unit, []);
    expect(cycles, cycles.join('\n')).toEqual([]);
  });

  it('queue/ is transport only: it imports nothing from db/, services/ or the consumers', () => {
    const reaches = ['db/', 'services/', 'consumers/'].flatMap((to) => edges.get('queue/')?.get(to) ?? []);
    expect(reaches, reaches.join('\n')).toEqual([]);
  });
});

describe('shared/ is pure', () => {
  it('imports nothing from worker/ or client/', () => {
    const files = sourceFiles(join(ROOT, 'shared'));
    expect(files.length).toBeGreaterThan(5);
    const outside = files.flatMap((file) =>
      imports(file)
        .filter((target) => inside(target, join(ROOT, 'worker')) || inside(target, join(ROOT, 'client')))
        .map((target) => `${show(file)} -> ${show(target)}`),
    );
    expect(outside, outside.join('\n')).toEqual([]);
  });
});

describe('SQL is written only in worker/src/db', () => {
  // SQL text: a statement handed to prepare() as a literal, an sql`…` template, or a string that
  // starts a statement. The D1 wrappers (middleware/d1-session.ts, lib/storage-ops.ts) pass on a
  // query they were given, which is not SQL written there; shared/filter compiles a WHERE fragment
  // that db/ places in its statements.
  const SQL = [
    /\bprepare\(\s*['"`]/,
    /\bsql`/,
    /['"`]\s*(?:SELECT|INSERT(?: OR [A-Z]+)? INTO|UPDATE\s+\w+\s+SET|DELETE FROM|WITH\s+\w+\s+AS)\b/,
  ];
  const findSql = (file: string): string[] =>
    code(file)
      .split('\n')
      .flatMap((line, i) => (SQL.some((pattern) => pattern.test(line)) ? [`${show(file)}:${i + 1}: ${line.trim()}`] : []));

  it('finds the SQL of db/ (so the patterns are live)', () => {
    expect(sourceFiles(join(WORKER, 'db')).flatMap(findSql).length).toBeGreaterThan(50);
  });

  it('finds none anywhere else in worker/src, shared/ or client/', () => {
    const files = [WORKER, join(ROOT, 'shared'), join(ROOT, 'client')]
      .flatMap(sourceFiles)
      .filter((file) => !inside(file, join(WORKER, 'db')));
    const found = files.flatMap(findSql);
    expect(found, found.join('\n')).toEqual([]);
  });
});
