/**
 * Storage written through the public client key is bounded in time too: anonymous tracking
 * profiles, with their events and validations, are deleted by the cron after
 * ANONYMOUS_RETENTION_DAYS (default 400) without a visit (security review F3).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteStaleAnonymousProfiles } from '../../worker/src/db/anonymous-profiles';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { deleteStaleAnonymousProfiles as retention } from '../../worker/src/services/retention';
import { CLIENT_HEADERS, api, call, settled } from './helpers';

const DAY = 86_400_000;

const visit = async (trackingId: string) => {
  await call(`/client/v1/validate?code=KEEP&tracking_id=${trackingId}`, { headers: CLIENT_HEADERS });
  await call('/client/v1/events', {
    method: 'POST',
    headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: 'viewed', customer: { source_id: trackingId } }),
  });
  await settled();
};
const lastSeen = (trackingId: string, daysAgo: number) =>
  env.DB.prepare('UPDATE tracking_profiles SET last_seen = ? WHERE id = ?').bind(Date.now() - daysAgo * DAY, trackingId).run();
const rows = async (trackingId: string) => {
  const n = async (sql: string) => (await env.DB.prepare(sql).bind(trackingId).first<{ n: number }>())?.n ?? 0;
  return {
    profiles: await n('SELECT count(*) AS n FROM tracking_profiles WHERE id = ?'),
    events: await n('SELECT count(*) AS n FROM events WHERE profile_id = ?'),
    validations: await n('SELECT count(*) AS n FROM validations WHERE tracking_id = ?'),
  };
};

describe('retention of anonymous tracking data', () => {
  it('the cron deletes anonymous profiles past the retention, with their events and validations, and nothing else', async () => {
    await api('POST', '/v1/vouchers/KEEP', { discount: { type: 'AMOUNT', amount_off: 100 } });
    const stale = 'track_StaleStaleStaleStale00';
    const recent = 'track_RecentRecentRecent0000';
    const linked = 'track_LinkedLinkedLinked1111';
    for (const id of [stale, recent, linked]) await visit(id);
    await api('POST', '/v1/vouchers/KEEP/redemption', { customer: { source_id: 'kept-customer' }, tracking_id: linked, order: { amount: 100 } });
    await lastSeen(stale, 401);
    await lastSeen(recent, 399);
    await lastSeen(linked, 500);
    expect(await rows(stale)).toEqual({ profiles: 1, events: 1, validations: 1 });

    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '*/15 * * * *' }), env as unknown as Env, ctx);
    await waitOnExecutionContext(ctx);

    expect(await rows(stale)).toEqual({ profiles: 0, events: 0, validations: 0 });
    expect(await rows(recent)).toEqual({ profiles: 1, events: 1, validations: 1 });
    expect((await rows(linked)).profiles).toBe(1);
    expect((await api('GET', '/v1/customers/kept-customer/activity')).status).toBe(200);
  });

  it('takes a configurable retention, and deletes in bounded batches', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `track_Batch${String(i).padStart(17, 'B')}`);
    for (const id of ids) {
      await visit(id);
      await lastSeen(id, 40);
    }
    // One batch takes at most its limit, oldest first.
    const before = Date.now() - 30 * DAY;
    const due = async () =>
      (await env.DB.prepare('SELECT count(*) AS n FROM tracking_profiles WHERE customer_id IS NULL AND last_seen < ?').bind(before).first<{ n: number }>())?.n ?? 0;
    const dueBefore = await due();
    expect(dueBefore).toBeGreaterThanOrEqual(5);
    expect(await deleteStaleAnonymousProfiles(env.DB, before, 2)).toBe(2);
    expect(await due()).toBe(dueBefore - 2);
    // The default 400 days keeps 40-day-old profiles; ANONYMOUS_RETENTION_DAYS=30 does not.
    expect(await retention({ ...env, ANONYMOUS_RETENTION_DAYS: undefined } as unknown as Env, Date.now())).toBe(0);
    expect(await retention({ ...env, ANONYMOUS_RETENTION_DAYS: '30' } as unknown as Env, Date.now())).toBeGreaterThanOrEqual(3);
    for (const id of ids) expect(await rows(id)).toEqual({ profiles: 0, events: 0, validations: 0 });
  });
});
