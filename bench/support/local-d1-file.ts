// Reads the local D1 of a `wrangler dev --persist-to` directly from its SQLite file, for what
// `wrangler d1 execute` cannot do or does too slowly: the bytes each table takes (SQLite's dbstat
// table, which the workerd build of SQLite leaves out) and polling a count every few hundred ms
// while a load runs (wrangler d1 execute starts a workerd each time, about 1.5 s of CPU on a
// machine the load already saturates). The file is in WAL mode, so a reader beside the running
// server sees every committed write and never blocks it. Through the `sqlite3` CLI, else Python's
// sqlite3 module; neither is a dependency of the project, so without both the callers fall back
// to `wrangler d1 execute` and print n/a for the bytes.
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

type Reader = 'sqlite3' | 'python3';

let reader: Reader | null | undefined;

/** Which reader this machine has (checked once), or null. */
export function sqliteReader(): Reader | null {
  if (reader !== undefined) return reader;
  const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).status === 0;
  reader = works('sqlite3', ['-version'])
    ? 'sqlite3'
    : works('python3', ['-c', 'import sqlite3; sqlite3.connect(":memory:").execute("SELECT 1 FROM dbstat")'])
      ? 'python3'
      : null;
  return reader;
}

/** The D1 database file under a persist directory (miniflare names it by a hash; metadata.sqlite is its own). */
export function localD1File(persist: string): string {
  const dir = join(persist, 'v3', 'd1', 'miniflare-D1DatabaseObject');
  const file = readdirSync(dir).find((f) => f.endsWith('.sqlite') && f !== 'metadata.sqlite');
  if (!file) throw new Error(`no D1 database file in ${dir}`);
  return join(dir, file);
}

const PYTHON = `import json, sqlite3, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
c.row_factory = sqlite3.Row
print(json.dumps([dict(r) for r in c.execute(sys.argv[2])]))`;

/** `sql` on the file, read-only; the result rows, or null when this machine has no reader. */
export function readLocalD1<Row>(file: string, sql: string): Promise<Row[] | null> {
  const kind = sqliteReader();
  if (!kind) return Promise.resolve(null);
  const [cmd, args] = kind === 'sqlite3' ? ['sqlite3', ['-readonly', '-json', file, sql]] : ['python3', ['-c', PYTHON, file, sql]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) =>
      // The CLI prints nothing at all for an empty result.
      error ? reject(error) : resolve(stdout.trim() === '' ? [] : (JSON.parse(stdout) as Row[])),
    ),
  );
}

/**
 * Bytes of each named table with its indexes (dbstat's pages, so free space inside pages counts,
 * as it does on disk), and its rows; null when this machine has no reader.
 */
export async function tableSizes(file: string, tables: string[]): Promise<Map<string, { bytes: number; rows: number }> | null> {
  const present = await readLocalD1<{ name: string }>(
    file,
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN (${tables.map((t) => `'${t}'`).join(', ')})`,
  );
  if (!present) return null;
  const sizes = new Map<string, { bytes: number; rows: number }>();
  for (const { name } of present) {
    const [row] =
      (await readLocalD1<{ bytes: number; rows: number }>(
        file,
        `SELECT (SELECT sum(d.pgsize) FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name
                  WHERE coalesce(m.tbl_name, d.name) = '${name}') AS bytes,
                (SELECT count(*) FROM "${name}") AS rows`,
      )) ?? [];
    if (row) sizes.set(name, row);
  }
  return sizes;
}
