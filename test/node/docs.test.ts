/**
 * The documentation's links hold: every relative link of README.md and docs/ names a file that
 * exists and, with a `#fragment`, a heading of that file, under GitHub's anchor rules (what a
 * reader clicking it on GitHub gets). And the README stays short: the topics live in docs/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_MAX_LINES = 260;

/** Markdown files of docs/ (any depth), with README.md first. */
function documents(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : name.endsWith('.md') ? [path] : [];
    });
  return [join(root, 'README.md'), ...walk(join(root, 'docs')).sort()];
}

/** The text outside fenced code blocks (a link or heading inside one is code, not Markdown). */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const opening = /^\s*(```+|~~~+)/.exec(line);
    if (opening) {
      const marker = opening[1] as string;
      if (fence === null) fence = marker[0] as string;
      else if (marker[0] === fence) fence = null;
      lines.push('');
      continue;
    }
    lines.push(fence === null ? line : '');
  }
  return lines;
}

/**
 * GitHub's heading anchor: lower case, every character that is not a letter, a digit, a space,
 * `-` or `_` dropped (backticks and other punctuation included), each space turned into `-`; a
 * repeated anchor gets `-1`, `-2`, … in order.
 */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    // A link in a heading counts by its text.
    const text = (heading[1] as string).replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** The Markdown links `[text](target)` of the prose, inline code spans left out. */
export function linksOf(markdown: string): Link[] {
  const links: Link[] = [];
  prose(markdown).forEach((text, i) => {
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const m of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: m[1] as string });
  });
  return links;
}

/** What is wrong with the relative links of one file, as `file:line: message`. */
export function brokenLinks(file: string, markdown: string, read: (path: string) => string | null): string[] {
  const problems: string[] = [];
  for (const { line, target } of linksOf(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not a file of this repository
    const [pathPart = '', fragment] = target.split('#', 2) as [string, string | undefined];
    const path = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(root, file)}:${line}`;
    // A link within the page reads the page itself.
    const text = pathPart === '' ? markdown : read(path);
    if (text === null) {
      problems.push(`${where}: ${target} names a file that does not exist`);
      continue;
    }
    if (fragment === undefined || fragment === '') continue;
    if (!path.endsWith('.md')) {
      problems.push(`${where}: ${target} has an anchor into a file that is not Markdown`);
      continue;
    }
    if (!anchorsOf(text).has(decodeURIComponent(fragment))) problems.push(`${where}: ${target}: no heading has the anchor #${fragment}`);
  }
  return problems;
}

/** A file's text, '' for a directory (a link may name a folder), null when nothing is there. */
function readFromDisk(path: string): string | null {
  if (!existsSync(path)) return null;
  return statSync(path).isDirectory() ? '' : readFileSync(path, 'utf8');
}

describe('the checker itself', () => {
  it('makes anchors as GitHub does', () => {
    const anchors = anchorsOf(
      [
        '# Vouchsafe',
        '## Rotating `IDENTITY_SECRET`',
        '## Segment and PostHog (the CDP destination)',
        '### Queue consumers and cron',
        '## Tables',
        '## Tables',
        '```sh',
        '# a comment in a code block',
        '```',
      ].join('\n'),
    );
    expect([...anchors]).toEqual([
      'vouchsafe',
      'rotating-identity_secret',
      'segment-and-posthog-the-cdp-destination',
      'queue-consumers-and-cron',
      'tables',
      'tables-1',
    ]);
  });

  it('reports a missing file and a missing anchor, and passes links that hold', () => {
    const files: Record<string, string> = {
      [join(root, 'docs/a.md')]: '# A\n\n## Real heading\n',
    };
    const read = (path: string) => files[path] ?? null;
    const source = [
      'See [a](a.md), [its heading](a.md#real-heading), [here](#top) and [the web](https://example.com).',
      'Broken: [gone](gone.md) and [no anchor](a.md#not-there).',
      '`[in code](nowhere.md)`',
      '```',
      '[in a fence](nowhere.md)',
      '```',
      '# Top',
    ].join('\n');
    expect(brokenLinks(join(root, 'docs/b.md'), source, read)).toEqual([
      'docs/b.md:2: gone.md names a file that does not exist',
      'docs/b.md:2: a.md#not-there: no heading has the anchor #not-there',
    ]);
  });
});

describe('README.md and docs/', () => {
  const files = documents();

  it('has the pages the README links to', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(files.map((f) => relative(root, f))).toContain('docs/architecture.md');
  });

  it.each(files.map((f) => [relative(root, f), f]))('%s: every relative link names a file and heading that exist', (_name, file) => {
    expect(brokenLinks(file, readFileSync(file, 'utf8'), readFromDisk)).toEqual([]);
  });

  it(`README.md stays at most ${README_MAX_LINES} lines: the topics live in docs/`, () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
    // A final newline does not make a line.
    const count = lines.at(-1) === '' ? lines.length - 1 : lines.length;
    expect(count).toBeLessThanOrEqual(README_MAX_LINES);
  });
});
