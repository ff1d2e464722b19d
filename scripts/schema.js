#!/usr/bin/env node
// `npm run schema`: writes worker/schema.sql, the schema after every migration, so that "what are the
// tables?" has one answer and every schema change shows in review as a diff of that file.
// It applies worker/migrations/*.sql in order to an empty in-memory D1 (Miniflare's, the same SQLite
// as workerd's; Node 20 has no node:sqlite) and writes what sqlite_master holds. Rerun it after adding
// or changing a migration: it always starts from an empty database.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { Miniflare } from 'miniflare';
import { SCHEMA_QUERY, renderSchema } from './schema-render.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = `${root}worker/schema.sql`;

const mf = new Miniflare({
  modules: true,
  script: 'export default { fetch() { return new Response(null, { status: 404 }); } };',
  compatibilityDate: '2026-04-20',
  d1Databases: ['DB'],
});
try {
  const db = await mf.getD1Database('DB');
  // The same reading and splitting of the files as the tests' migrations (vitest.config.ts) and
  // `wrangler d1 migrations apply`: name order, one batch per file.
  const migrations = await readD1Migrations(`${root}worker/migrations`);
  for (const migration of migrations) {
    await db.batch(migration.queries.map((query) => db.prepare(query)));
  }
  const { results } = await db.prepare(SCHEMA_QUERY).all();
  writeFileSync(target, renderSchema(results));
  const count = (type) => results.filter((row) => row.type === type).length;
  console.log(
    `worker/schema.sql: ${migrations.length} migrations, ${count('table')} tables, ${count('index')} indexes, ` +
      `${count('trigger')} triggers, ${count('view')} views`,
  );
} finally {
  await mf.dispose();
}
