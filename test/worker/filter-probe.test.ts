import { env } from 'cloudflare:workers';
import { it } from 'vitest';

async function q(sql: string, ...params: unknown[]) {
  try {
    const r = await env.DB.prepare(sql).bind(...params).all();
    return JSON.stringify(r.results);
  } catch (e) {
    return 'ERR ' + String(e);
  }
}

it('probe', async () => {
  const out: string[] = [];
  out.push(await q("SELECT sqlite_version() v"));
  out.push(await q("SELECT 'abc' LIKE ? AS r", 'a'.repeat(60)));
  out.push(await q("SELECT 'abc' LIKE ? AS r", 'a'.repeat(49)));
  out.push(await q("SELECT lower('ÄÖÜ Straße ABC') AS r, upper('é') u"));
  out.push(await q("SELECT 'Ä' LIKE 'ä' AS r"));
  out.push(await q("SELECT json_extract('{\"a\":[1,2]}', '$.\"a\"') AS r, json_type('{\"a\":[1,2]}', '$.\"a\"') t, json_type('{\"a\":null}', '$.\"a\"') tn, json_type('{\"a\":1}', '$.\"b\"') tm"));
  out.push(await q("SELECT json_extract('{\"a-b\":{\"c\":true}}', ?) AS r, json_type('{\"a-b\":{\"c\":true}}', ?) t", '$."a-b"."c"', '$."a-b"."c"'));
  out.push(await q("SELECT unixepoch('2026-06-15T12:00:00.123Z','subsec') a, julianday('2026-02-30') b, unixepoch('2026-13-01') c, strftime('%s','2026-02-29') d, date('2026-02-30') e"));
  out.push(await q("SELECT typeof(CAST('12abc' AS REAL)) a, CAST(' 12 ' AS REAL) b, '12' + 0 c, typeof('1e3' + 0) d"));
  out.push(await q("SELECT 5 = '5' a, CAST(5 AS TEXT) b, CAST(5.0 AS TEXT) c, CAST(1e20 AS TEXT) d"));
  out.push(await q("SELECT value, type FROM json_each(?)", JSON.stringify(['a', 1, 2.5, true, null])));
  out.push(await q("SELECT ? AS a, typeof(?) b", 3, 3.5));
  out.push(await q("SELECT json_valid('1e999') a, json_extract('{\"a\":1e400}','$.a') b, json_type('{\"a\":1.0}','$.a') c, json_extract('{\"a\":1.0}','$.a') d"));
  out.push(await q("SELECT json_extract('{\"a\":\"x\"}','$.a') = json_extract('\"x\"','$') a, json_quote('x') b"));
  out.push(await q("SELECT instr(lower('HeLLo'), lower('ll')) a, substr('héllo', 1, length('hé')) b"));
  console.log(out.join('\n'));
});
