import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A comment or a test name must carry its reason in place. A citation of a review finding (a letter
// and a number), a numbered tracker issue, an audit item ("audit #14") or a private
// document ("feature-research.md §3.1", a path on someone's machine) sends a newcomer to a text the
// repository does not hold. This test reads every tracked (and new, not ignored) text file, code,
// tests, migrations, README.md and docs/ alike, and names each file:line that cites one.
//
// Public references stay welcome: Voucherify's published OpenAPI and docs (OA:L1234, errors.mdx),
// a URL, an upstream issue as a link (github.com/…/issues/123).

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SELF = 'test/node/no-outside-references.test.ts';

interface Citation {
  /** What the citation is, for the failure message. */
  kind: string;
  pattern: RegExp;
}

const CITATIONS: Citation[] = [
  // A finding of a review, with its number: F, S or W and one or two digits, in parentheses, before
  // a colon or a comma, or as a possessive (the examples below). Not data that merely looks like
  // one: a quoted code, part of an identifier (CONF-S1), a character class, hex, a path or a
  // query value.
  { kind: 'a review finding', pattern: /(?<![\w'"`/=&.\-[])[FSW]\d{1,2}(?=[):,]|'s\b|\s\()/g },
  { kind: 'a review finding', pattern: /(?:\(|\b(?:review|audit|findings?)\s+)[FSW]\d{1,2}\b/g },
  // A test name that starts with a finding: it('F3: a flood …').
  { kind: 'a review finding', pattern: /(?<=['"`])[FSW]\d{1,2}:\s/g },
  { kind: 'a review', pattern: /\b(?:security|code)[ -]review\b/gi },
  { kind: 'an audit', pattern: /\bwire[ -](?:conformance[ -])?audit\b|\baudit (?:findings? )?#\d/gi },
  { kind: 'an audit item', pattern: /\(#\d{1,2}[,)]/g },
  { kind: 'a findings document', pattern: /\bfindings?\/|\b(?:review|audit) findings?\b/gi },
  { kind: 'a research document', pattern: /\b(?:feature|scale)[ -]research\b/gi },
  { kind: 'an issue', pattern: /\bissues?[ -]?#?\d+/gi },
  { kind: 'a section of another document', pattern: /§\s?[a-z]?-?\d/gi },
  { kind: 'a path outside the repository', pattern: /(?<![\w.:/])\/work\/|\bshared\/reference\//g },
];

interface Hit {
  line: number;
  kind: string;
  text: string;
}

/** Every citation of a document outside the repository in `text`, by line (1-based). */
function outsideReferences(text: string): Hit[] {
  const hits: Hit[] = [];
  text.split('\n').forEach((line, i) => {
    for (const { kind, pattern } of CITATIONS) {
      for (const match of line.matchAll(pattern)) hits.push({ line: i + 1, kind, text: match[0].trim() });
    }
  });
  return hits;
}

const SKIPPED = [/^package-lock\.json$/, /(^|\/)node_modules\//, /^dist\//, /^\.wrangler\//, /^coverage\//];

/** The repository's files: tracked and new (not ignored), by git; a directory walk where git is missing. */
function repositoryFiles(): string[] {
  let files: string[];
  try {
    files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    })
      .split('\0')
      .filter(Boolean);
  } catch {
    files = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name === '.git' || name === 'node_modules' || name === 'dist' || name === '.wrangler') continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(relative(ROOT, path).split('\\').join('/'));
      }
    };
    walk(ROOT);
  }
  return [...new Set(files)]
    .filter((file) => file !== SELF && !SKIPPED.some((skip) => skip.test(file)) && existsSync(join(ROOT, file)))
    .sort();
}

describe('no references that leave the repository', () => {
  it('no file cites a finding, an issue, an audit item or a document the repository does not hold', () => {
    const files = repositoryFiles();
    // The scan reaches what it must: code, tests, migrations and the README.
    for (const expected of [
      'worker/src/app.ts',
      'shared/types.ts',
      'client/index.ts',
      'worker/migrations/0001_customers.sql',
      'README.md',
      'test/node/discount.test.ts',
    ]) {
      expect(files).toContain(expected);
    }
    const found: string[] = [];
    for (const file of files) {
      const bytes = readFileSync(join(ROOT, file));
      if (bytes.includes(0)) continue; // binary
      for (const hit of outsideReferences(bytes.toString('utf8'))) found.push(`${file}:${hit.line}: ${hit.kind} ("${hit.text}")`);
    }
    expect(found, 'say the reason in place instead of citing it').toEqual([]);
  });

  it('flags each form of citation', () => {
    // Written with a '~' after the first letter, removed before the check, so that no search of
    // the repository for citations finds these examples themselves.
    const cited = [
      '// Heavy segment work as bounded steps (s~ecurity review F~10).',
      ' * into bounded D1 calls (F~10): each call',
      "  it('F~13: erasing someone follows only their own identities', async () => {",
      "describe('every client route is rate-limited (F~3, F~12)', () => {",
      '// F~16 (s~ecurity review): a 100,000-row import',
      '-- CSV imports through the WRITES queue (i~ssue 13): the request',
      "// I~ssue 14 item 5: a campaign's codes",
      ' * The console over the issue-15 API additions',
      '// The SDK calls of audit findings #10, #14',
      "  it('redeems for a guest (#3)', async () => {",
      '// the w~ire audit W~3 found',
      '// Metadata merges grow without bound (S~4)',
      '// (feature-research.md §3.1, "tier it")',
      '// keyed by the version (c~ode-review.md §c-4;',
      '// OA = /work/spec/readOnly-openAPI.json',
      '// Wire types (see ../shared/reference/voucherify-api.md).',
      '// Regression tests of s~ecurity-review.md F~2',
    ];
    for (const marked of cited) {
      const line = marked.replaceAll('~', '');
      expect(outsideReferences(line), line).not.toEqual([]);
    }
  });

  it('leaves data, code and public references alone', () => {
    const legit = [
      "    await voucher('S1', { discount: { type: 'AMOUNT', amount_off: 300 } });",
      "    expect(ids).toEqual([['S1', 'SKIPPED'], ['S2', 'SKIPPED'], ['S3', 'INAPPLICABLE']]);",
      "    const redeemables = [{ object: 'voucher', id: 'CONF-S1' }, { object: 'voucher', id: 'WH-S2' }];",
      '      expect(v.code).toMatch(/^SP-[A-F1-5]{4}-[A-F1-5]{2}$/);',
      "const color = '#F1F1F1'; const mask = 0xF1;",
      "  fc.constantFrom('s1', 's2', 's3'),",
      '    expect(res.status).toBe(404); // 400, 401, 429 and 500 too',
      "  'SELECT id FROM customers WHERE created_at > ?1 AND id IN (SELECT value FROM json_each(?2))',",
      '// R2 is S3-compatible; see https://github.com/cloudflare/workerd/issues/1234',
      '// OA CampaignBase (readOnly-openAPI.json:L2068); errors.mdx:L101',
      '/** The issue of a code to a customer: a publication. */',
      '// finding the next range: the step finds its end by the created_at index',
      "await call('/client/v1/validate?code=CLAIMED-HASH&tracking_id=x');",
    ];
    for (const line of legit) expect(outsideReferences(line), line).toEqual([]);
  });
});
