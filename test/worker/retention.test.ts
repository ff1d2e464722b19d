/**
 * Storage written through the public client key is bounded in time too: anonymous tracking
 * profiles, with their events and validations, are deleted by the cron after
 * ANONYMOUS_RETENTION_DAYS (default 400) without a visit, so the public key cannot grow storage for ever.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { deleteStaleAnonymousProfiles } from '../../worker/src/db/anonymous-profiles';
import { deleteExpiredClientRedemptions } from '../../worker/src/db/redemptions';
import type { Env } from '../../worker/src/env';
import worker from '../../worker/src/index';
import { deleteExpiredClientRedemptionRows, deleteStaleAnonymousProfiles as retention } from '../../worker/src/services/retention';
import { TEST_ENV } from '../test-env';
import { CLIENT_HEADERS, api, call, json, settled, signAs } from './helpers';

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
  env.DB.prepare('UPDATE tracking_profiles SET last_seen = ? WHERE id = ?')
    .bind(Date.now() - daysAgo * DAY, trackingId)
    .run();
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
    await api('POST', '/v1/vouchers/KEEP/redemption', {
      customer: { source_id: 'kept-customer' },
      tracking_id: linked,
      order: { amount: 100 },
    });
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
      (
        await env.DB.prepare('SELECT count(*) AS n FROM tracking_profiles WHERE customer_id IS NULL AND last_seen < ?')
          .bind(before)
          .first<{ n: number }>()
      )?.n ?? 0;
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

describe("retention of the public key's redemptions", () => {
  const clientRedeem = async (code: string, extra: Record<string, unknown> = {}) =>
    json(
      await call('/client/v1/redemptions', {
        method: 'POST',
        headers: { ...CLIENT_HEADERS, 'Content-Type': 'application/json' },
        body: JSON.stringify({ redeemables: [{ object: 'voucher', id: code }], order: { amount: 1000 }, ...extra }),
      }),
    );
  /** Ids of a redemption's group: the row, its stacked children, and rollbacks of either. */
  const group = async (id: string) =>
    (
      await env.DB.prepare(
        'SELECT id FROM redemptions WHERE id = ?1 OR parent_id = ?1 OR rollback_of = ?1 OR rollback_of IN (SELECT id FROM redemptions WHERE parent_id = ?1) OR parent_id IN (SELECT id FROM redemptions WHERE rollback_of = ?1)',
      )
        .bind(id)
        .all<{ id: string }>()
    ).results.map((r) => r.id);
  const age = (ids: string[], daysAgo: number) =>
    env.DB.prepare('UPDATE redemptions SET created_at = ? WHERE id IN (SELECT value FROM json_each(?))')
      .bind(Date.now() - daysAgo * DAY, JSON.stringify(ids))
      .run();
  const runCron = async (bindings: Partial<Env> = {}) => {
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ scheduledTime: Date.now(), cron: '*/15 * * * *' }),
      { ...env, ...bindings } as unknown as Env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
  };

  it("the cron deletes the public key's guest and failed redemptions past the retention, and keeps customers' and the backend's", async () => {
    await api('POST', '/v1/vouchers/RET-PUB', { discount: { type: 'AMOUNT', amount_off: 100 } });
    await api('POST', '/v1/vouchers/RET-OFF', { discount: { type: 'AMOUNT', amount_off: 100 }, active: false });
    await api('POST', '/v1/customers', { source_id: 'ret-signed' });

    const guest = (await clientRedeem('RET-PUB')).parent_redemption.id as string;
    const rolledBack = (await clientRedeem('RET-PUB')).parent_redemption.id as string;
    expect((await api('POST', `/v1/redemptions/${rolledBack}/rollbacks`)).status).toBe(200);
    const failed = (await clientRedeem('RET-OFF')).resource_id as string;
    expect(failed).toMatch(/^rf_/);
    const signed = (
      await clientRedeem('RET-PUB', { customer: { source_id: 'ret-signed' }, identity_signature: await signAs('source_id', 'ret-signed') })
    ).parent_redemption.id as string;
    const backendGuest = (
      await json(await api('POST', '/v1/redemptions', { redeemables: [{ object: 'voucher', id: 'RET-PUB' }], order: { amount: 1000 } }))
    ).parent_redemption.id as string;
    const recent = (await clientRedeem('RET-PUB')).parent_redemption.id as string;

    const expired = { guest: await group(guest), rolledBack: await group(rolledBack), failed: await group(failed) };
    expect(expired.guest).toHaveLength(2);
    expect(expired.rolledBack).toHaveLength(4);
    const kept = { signed: await group(signed), backendGuest: await group(backendGuest), recent: await group(recent) };
    for (const ids of [...Object.values(expired), kept.signed, kept.backendGuest]) await age(ids, 401);
    await age(kept.recent, 399);

    await runCron();
    for (const [what, ids] of Object.entries(expired)) expect(await group(ids[0] as string), what).toEqual([]);
    for (const [what, ids] of Object.entries(kept)) expect((await group(ids[0] as string)).sort(), what).toEqual([...ids].sort());
    expect((await api('GET', `/v1/redemptions/${guest}`)).status).toBe(404);
    expect((await api('GET', `/v1/redemptions/${signed}`)).status).toBe(200);
  });

  it('takes its own retention setting, else the anonymous one, and deletes in bounded batches', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await clientRedeem('RET-PUB')).parent_redemption.id);
    for (const id of ids) await age(await group(id), 40);
    const left = async () => (await Promise.all(ids.map(group))).filter((g) => g.length > 0).length;
    // The default (400 days) keeps them. ANONYMOUS_RETENTION_DAYS=60, when it is the only setting,
    // keeps them too but takes the 399-day-old guest redemption the test above kept.
    expect(await deleteExpiredClientRedemptionRows(env as unknown as Env, Date.now())).toBe(0);
    expect(await deleteExpiredClientRedemptionRows({ ...env, ANONYMOUS_RETENTION_DAYS: '60' } as unknown as Env, Date.now())).toBe(1);
    expect(await left()).toBe(3);
    // One batch takes at most its limit, oldest first.
    expect(await deleteExpiredClientRedemptions(env.DB, Date.now() - 30 * DAY, 1)).toBe(1);
    expect(await left()).toBe(2);
    // CLIENT_REDEMPTION_RETENTION_DAYS wins over ANONYMOUS_RETENTION_DAYS.
    expect(
      await deleteExpiredClientRedemptionRows(
        { ...env, ANONYMOUS_RETENTION_DAYS: '60', CLIENT_REDEMPTION_RETENTION_DAYS: '30' } as unknown as Env,
        Date.now(),
      ),
    ).toBe(2);
    expect(await left()).toBe(0);
  });
});
