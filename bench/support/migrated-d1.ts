// A local D1 (Miniflare, the runtime of `wrangler dev`) with the project's migrations applied, for
// the benches that measure the database alone, without a worker in front of it.
import { readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { Miniflare } from 'miniflare';

/** A fresh database with the migrations whose file name sorts at or before `upTo` (all by default); dispose `mf` after. */
export async function migratedD1(upTo = '\uffff'): Promise<{ mf: Miniflare; db: D1Database }> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null) } }',
    compatibilityDate: '2026-04-20',
    d1Databases: ['DB'],
  });
  const db = await mf.getD1Database('DB');
  for (const migration of await readD1Migrations('worker/migrations')) {
    if (migration.name > upTo) break;
    await db.batch(migration.queries.map((q) => db.prepare(q)));
  }
  return { mf, db };
}
