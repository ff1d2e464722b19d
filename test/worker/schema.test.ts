/**
 * worker/schema.sql is the whole schema in one file, generated from the migrations by `npm run schema`.
 * Here the migrations this test file started with (test/worker/apply-migrations.ts, the same files and
 * splitting as the script) are read back from sqlite_master and rendered as the script renders them:
 * a migration added or changed without rerunning the script fails here, with the diff to review.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { SCHEMA_QUERY, renderSchema } from '../../scripts/schema-render.js';
import committed from '../../worker/schema.sql?raw';

async function currentSchema(): Promise<string> {
  const { results } = await env.DB.prepare(SCHEMA_QUERY).all<{ type: string; name: string; sql: string }>();
  return renderSchema(results);
}

describe('worker/schema.sql', () => {
  it('is what the migrations leave in an empty database (if not: npm run schema, and commit the diff)', async () => {
    expect(await currentSchema(), 'worker/schema.sql is stale: run `npm run schema`').toBe(committed);
  });

  it('holds every table, index, trigger and view the migrations made, each once', async () => {
    const { results } = await env.DB.prepare(SCHEMA_QUERY).all<{ type: string; name: string }>();
    expect(results.length).toBeGreaterThan(0);
    for (const { type, name } of results) {
      const created = committed.match(new RegExp(`^CREATE (?:UNIQUE )?${type.toUpperCase()} (?:IF NOT EXISTS )?${name}\\b`, 'gm'));
      expect(created, `${type} ${name}`).toHaveLength(1);
    }
  });

  it('notices a change to the schema (a table made after the migrations is not in the file)', async () => {
    await env.DB.prepare('CREATE TABLE schema_probe (id TEXT PRIMARY KEY)').run();
    try {
      const changed = await currentSchema();
      expect(changed).toContain('CREATE TABLE schema_probe (id TEXT PRIMARY KEY);');
      expect(changed).not.toBe(committed);
    } finally {
      await env.DB.prepare('DROP TABLE schema_probe').run();
    }
    expect(await currentSchema()).toBe(committed);
  });
});
