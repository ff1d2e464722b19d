#!/usr/bin/env node
// `npm start`: everything a fresh clone needs to serve the API locally.
//   1. .dev.vars from .dev.vars.example when missing (demo keys, local only);
//   2. the browser SDK and the demo page built into dist/public (served by the worker);
//   3. the D1 migrations applied to the local database (.wrangler/state);
//   4. `wrangler dev` on 127.0.0.1:$PORT (default 8787) with local D1, KV and the queue (the config
//      of scripts/local-config.js: wrangler.toml with smaller consumer batches);
//   5. demo customers, segments and vouchers seeded through the API once it answers (only those missing).
//   6. the cron triggers of wrangler.toml fired on their schedule (driveCrons).
import { spawn, spawnSync } from 'node:child_process';
import { writeLocalConfig } from './local-config.js';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { demoCustomers, demoPromotions, demoSegments, demoVouchers } from './demo-data.js';
import { demoWarnings } from './demo-warning.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const wrangler = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url));
const port = Number(process.env.PORT ?? 8787);
const host = '127.0.0.1';
// wrangler's usage reporting cannot reach its host from sandboxes; it only adds noise there.
const env = { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false' };
// PERSIST_TO=<dir> keeps the local D1 and KV state there instead of .wrangler/state (a clean
// database for the end-to-end tests).
const persist = process.env.PERSIST_TO ? ['--persist-to', process.env.PERSIST_TO] : [];

const log = (message) => console.log(`[vouchsafe] ${message}`);
/** A count with its noun in the right number: "1 customer", "0 customers". */
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function ensureDevVars() {
  if (existsSync(`${root}/.dev.vars`)) return;
  copyFileSync(`${root}/.dev.vars.example`, `${root}/.dev.vars`);
  log('created .dev.vars from .dev.vars.example (demo keys; never use them in production)');
}

function readDevVars() {
  const vars = {};
  for (const line of readFileSync(`${root}/.dev.vars`, 'utf8').split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*)\s*$/.exec(line);
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

function build() {
  log('building the browser SDK and the demo page (dist/public)');
  const rollup = fileURLToPath(new URL('../node_modules/rollup/dist/bin/rollup', import.meta.url));
  const result = spawnSync(process.execPath, [rollup, '-c', 'client/rollup.config.js', '--silent'], { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function applyMigrations() {
  log('applying D1 migrations to the local database');
  const result = spawnSync(process.execPath, [wrangler, 'd1', 'migrations', 'apply', 'DB', '--local', ...persist], {
    cwd: root,
    // CI=true answers wrangler's "apply these migrations?" prompt, which would block a script.
    env: { ...env, CI: 'true' },
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function waitForHealth(baseUrl, child) {
  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

async function seedDemoData(baseUrl, vars) {
  const headers = { 'X-App-Id': vars.APP_ID, 'X-App-Token': vars.APP_TOKEN, 'Content-Type': 'application/json' };
  const api = async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const must = (res, what) => {
    if (res.status !== 200) throw new Error(`seeding ${what} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const created = { customers: 0, segments: 0, vouchers: 0, promotions: 0 };

  for (const customer of demoCustomers) {
    if ((await api('GET', `/v1/customers/${encodeURIComponent(customer.source_id)}`)).status === 200) continue;
    must(await api('POST', '/v1/customers', customer), customer.source_id);
    created.customers++;
  }

  const existing = must(await api('GET', '/v1/segments?limit=100'), 'segment list').data;
  const segmentIds = new Map(existing.map((s) => [s.name, s.id]));
  for (const segment of demoSegments) {
    if (segmentIds.has(segment.name)) continue;
    segmentIds.set(segment.name, must(await api('POST', '/v1/segments', segment), segment.name).id);
    created.segments++;
  }

  for (const { segment, itemRule, ...voucher } of demoVouchers) {
    if ((await api('GET', `/v1/vouchers/${encodeURIComponent(voucher.code)}`)).status === 200) continue;
    must(await api('POST', '/v1/vouchers', voucher), voucher.code);
    if (segment) {
      const rule = must(
        await api('POST', '/v1/validation-rules', {
          name: `${voucher.code}: ${segment} only`,
          error: { message: `This code is for ${segment.toLowerCase()} only.` },
          rules: { 1: { name: 'customer.segment', conditions: { $is: [segmentIds.get(segment)] } } },
        }),
        `rule of ${voucher.code}`,
      );
      must(
        await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
          related_object_type: 'voucher',
          related_object_id: voucher.code,
        }),
        `assignment of ${voucher.code}`,
      );
    }
    if (itemRule) {
      const rule = must(await api('POST', '/v1/validation-rules', itemRule), `item rule of ${voucher.code}`);
      must(
        await api('POST', `/v1/validation-rules/${rule.id}/assignments`, {
          related_object_type: 'voucher',
          related_object_id: voucher.code,
        }),
        `assignment of ${voucher.code}`,
      );
    }
    created.vouchers++;
  }

  const promotions = must(await api('GET', '/v1/campaigns?campaign_type=PROMOTION&limit=100'), 'promotion list').campaigns;
  const promotionNames = new Set(promotions.map((c) => c.name));
  for (const promotion of demoPromotions) {
    if (promotionNames.has(promotion.name)) continue;
    const tiers = [];
    for (const { segment, minAmount, discount, ...tier } of promotion.tiers) {
      const condition = segment
        ? { name: 'customer.segment', conditions: { $is: [segmentIds.get(segment)] } }
        : { name: 'order.amount', conditions: { $more_than_equal: [minAmount] } };
      const rule = must(
        await api('POST', '/v1/validation-rules', { name: `${tier.name}: who`, rules: { 1: condition } }),
        `rule of ${tier.name}`,
      );
      tiers.push({ ...tier, action: { discount }, validation_rules: [rule.id] });
    }
    must(await api('POST', '/v1/campaigns', { name: promotion.name, campaign_type: 'PROMOTION', promotion: { tiers } }), promotion.name);
    created.promotions++;
  }
  log(
    `demo data created: ${plural(created.customers, 'customer')}, ${plural(created.segments, 'segment')}, ${plural(created.vouchers, 'voucher')}, ${plural(created.promotions, 'promotion')} (the rest were there)`,
  );
}

// The cron triggers of wrangler.toml, run locally as production runs them: `wrangler dev` fires
// none by itself, so every minute this calls /__scheduled (--test-scheduled) for each cron due then
// (the webhook sweeper every minute, segment recomputes and size history every 15). Only the forms
// wrangler.toml uses are understood: "* * * * *" and "*/N * * * *".
function driveCrons(baseUrl) {
  const line = /^\s*crons\s*=\s*\[(.*)\]/m.exec(readFileSync(`${root}/wrangler.toml`, 'utf8'));
  const crons = [...(line?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  const everyMinutes = (cron) => (cron.startsWith('* ') ? 1 : Number(/^\*\/(\d+) /.exec(cron)?.[1] ?? 0));
  const timer = setInterval(() => {
    const minute = Math.floor(Date.now() / 60_000);
    for (const cron of crons) {
      const every = everyMinutes(cron);
      if (every > 0 && minute % every === 0) {
        fetch(`${baseUrl}/__scheduled?cron=${encodeURIComponent(cron)}`).catch(() => {});
      }
    }
  }, 60_000);
  timer.unref();
}

ensureDevVars();
build();
applyMigrations();

// The demo page calls the client API from its own origin, which must be an allowed one on any port.
const devVars = readDevVars();
const ownOrigins = [`http://${host}:${port}`, `http://localhost:${port}`];
const origins = [...new Set([...(devVars.ALLOWED_ORIGINS ?? '').split(',').filter(Boolean), ...ownOrigins])].join(',');
for (const warning of demoWarnings(devVars)) log(warning);
const config = writeLocalConfig(root);
// --test-scheduled: wrangler dev runs no cron by itself; driveCrons() below calls /__scheduled.
const dev = spawn(
  process.execPath,
  [
    wrangler,
    'dev',
    '-c',
    config,
    '--ip',
    host,
    '--port',
    String(port),
    '--test-scheduled',
    '--var',
    `ALLOWED_ORIGINS:${origins}`,
    ...persist,
  ],
  {
    cwd: root,
    env,
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => dev.kill(signal));
dev.on('exit', (code) => process.exit(code ?? 0));

const baseUrl = `http://${host}:${port}`;
if (await waitForHealth(baseUrl, dev)) {
  try {
    await seedDemoData(baseUrl, devVars);
    driveCrons(baseUrl);
    log(
      `ready: demo storefront ${baseUrl}/demo/, operator console ${baseUrl}/console/ (sign in with APP_ID and APP_TOKEN of .dev.vars), health ${baseUrl}/health`,
    );
  } catch (error) {
    log(`could not seed demo data: ${error.message}`);
  }
}
