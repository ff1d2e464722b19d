import type { AsyncAction, DistributionResult } from '../../../shared/types';
import * as asyncActionsDb from '../db/async-actions';
import * as campaignsDb from '../db/campaigns';
import * as distributionsDb from '../db/distributions';
import * as segmentsDb from '../db/segments';
import type { Env } from '../env';
import { ApiError, notFound } from '../errors';
import { promotionNotPublished } from './promotions';
import { generateCodes } from '../lib/codes';
import { randomId } from '../lib/ids';
import { MAX_RANGE } from '../lib/range-sizer';
import { bulkWriteTarget, type PaceLimits, WritePacer } from '../lib/write-pacer';
import { enqueue, type MessageOf } from '../queue/messages';
import type { DistributionCreate } from '../schemas/publications';
import { newAsyncAction, operationStatus } from './async-actions';
import type { JobOutcome, StatementBudget } from '../queue/jobs';
import { segmentMembers } from './segments';
import { BEFORE_ALL } from './segment-sync';
import type { Sql } from '../db/sql';

// Segment-wide distribution: "e-mail every lapsed buyer their own code". One call
// records the distribution and its async action; WRITES queue jobs walk the segment's customers in
// keyset ranges of created_at (at most 5,000 a step, sized by time as the segment walks are)
// and publish one code to each member a step finds, through the same choose-and-claim batch as a
// single publication (db/distributions.ts). Members are taken as each step finds them when it runs:
// someone who joins the segment after the walk passed their place gets nothing, someone who leaves
// before it gets there neither.

type Bindings = Pick<Env, 'DB' | 'WRITES'>;

const TYPE: AsyncAction['type'] = 'CAMPAIGN.VOUCHERS_PUBLISH';
/** OA24 POST /v1/publications 400 (OpenAPI24.json:L66933): the key and message when a campaign has no code left to hand out. */
const NO_CODE = { key: 'no_voucher_suitable_for_publication', message: "Couldn't find any voucher suitable for publication" };
/** Wall-clock time of one run; the rest goes in another message. */
const RUN_MS = 20_000;
/** A step's batch holds at most this many statements (a code insert for AUTO_UPDATE campaigns, the four of the step, the action). */
const STATEMENTS_PER_STEP = 6;
/** Customers a step walks: sized by the bulk writers' D1 time target (lib/write-pacer.ts), 5,000 at most as the segment walks. */
export const DISTRIBUTION_PACE: PaceLimits = { initial: 1_000, min: 100, max: MAX_RANGE };

const jobMessage = (distributionId: string): MessageOf<'distribution'> => ({
  kind: 'distribution',
  id: randomId('job_'),
  at: Date.now(),
  distribution_id: distributionId,
});

function resultOf(d: distributionsDb.DistributionRow, error?: { key: string; message: string; details: string }): DistributionResult {
  const errors = [];
  if (d.failed > 0)
    errors.push({
      ...NO_CODE,
      details: `${d.failed} member(s) of the segment got no code: the campaign had no free code left`,
      source_id: '',
    });
  if (error) errors.push({ ...error, source_id: '' });
  return {
    done_count: d.published,
    skipped_count: d.skipped,
    failed_count: d.failed,
    errors,
    campaign_id: d.campaign_id,
    segment_id: d.segment_id,
  };
}

/**
 * POST /v1/publications/segment (ours): the distribution and its async action in one batch, then
 * the job that walks it. 404 for an unknown campaign or segment.
 */
export async function distributeToSegment(
  env: Bindings,
  input: DistributionCreate,
  requestId: string,
): Promise<{ async_action_id: string }> {
  const db = env.DB;
  const campaign = await campaignsDb.findCampaign(db, input.campaign).first<campaignsDb.CampaignRead>();
  if (!campaign) throw notFound('campaign', input.campaign);
  if (campaign.campaign_type === 'PROMOTION') throw promotionNotPublished(campaign.id);
  const segment = await segmentsDb.findSegment(db, input.segment);
  if (!segment) throw notFound('segment', input.segment);
  const now = Date.now();
  const id = randomId('aa_');
  const joinOnce = campaign.join_once === 1 || input.join_once === true;
  const result: DistributionResult = {
    done_count: 0,
    skipped_count: 0,
    failed_count: 0,
    errors: [],
    campaign_id: campaign.id,
    segment_id: segment.id,
  };
  const action = newAsyncAction({ id, type: TYPE, result, requestId, startedAt: now, done: false });
  await db.batch([
    asyncActionsDb.insertAsyncAction(db, action),
    distributionsDb.insertDistribution(db, { id, campaignId: campaign.id, segmentId: segment.id, joinOnce, cursor: BEFORE_ALL, now }),
  ]);
  await enqueue(env.WRITES, jobMessage(id));
  return { async_action_id: id };
}

function actionUpdate(
  d: distributionsDb.DistributionRow,
  now: number,
  error?: { key: string; message: string; details: string },
): asyncActionsDb.AsyncActionUpdate {
  const result = resultOf(d, error);
  const progress = d.status !== 'IN_PROGRESS' ? 100 : Math.min(99, Math.floor((100 * d.customers_walked) / Math.max(1, d.customers_total)));
  return {
    status: d.status,
    ...(d.status === 'IN_PROGRESS' ? {} : { operationStatus: operationStatus(result, d.status === 'FAILED') }),
    progress,
    result,
    processingTime: now - d.created_at,
    updatedAt: now,
  };
}

/** Ends a distribution that cannot go on (its segment is gone) and its action, FAILED with the reason. */
async function fail(
  db: D1Database,
  d: distributionsDb.DistributionRow,
  error: { key: string; message: string; details: string },
): Promise<void> {
  const now = Date.now();
  const ended = await distributionsDb.endDistribution(db, d.id, 'FAILED', now).first<distributionsDb.DistributionRow>();
  await asyncActionsDb.updateAsyncAction(db, d.id, actionUpdate(ended ?? { ...d, status: 'FAILED' }, now, error)).run();
}

/**
 * The consumer's `distribution` job: steps until the distribution is DONE, or the run's time or the
 * delivery's statements run out (then it asks to run again). Each step is exact by itself (its
 * batch holds only while the cursor it started from is current), so a redelivered message or two
 * runners at once only continue where D1 says the walk stands.
 */
export async function runDistribution(
  env: Pick<Env, 'DB' | 'BULK_WRITE_TARGET_MS'>,
  message: MessageOf<'distribution'>,
  budget: StatementBudget,
): Promise<JobOutcome> {
  const db = env.DB;
  const found = await distributionsDb.findDistribution(db, message.distribution_id);
  const now = Date.now();
  if (!found) {
    // The campaign was deleted (its distributions with it): the action says so.
    const gone = { key: 'not_found', message: 'Resource not found', details: 'the campaign was deleted during the distribution' };
    await asyncActionsDb
      .updateAsyncAction(db, message.distribution_id, {
        status: 'FAILED',
        operationStatus: 'FAILED',
        progress: 100,
        result: { done_count: 0, failed_count: 0, errors: [{ ...gone, source_id: '' }] },
        processingTime: now - message.at,
        updatedAt: now,
      })
      .run();
    return;
  }
  let d: distributionsDb.DistributionRow = found;
  // Ended before (a redelivery after the last step): make sure its action says so.
  if (d.status !== 'IN_PROGRESS') {
    await asyncActionsDb.updateAsyncAction(db, d.id, actionUpdate(d, now)).run();
    return;
  }
  const segment = await segmentsDb.findSegment(db, d.segment_id);
  // An auto-update segment still in its initial sync has not all its members yet: wait for it
  // (the action's updated_at moves, so it does not read as stalled).
  if (segment?.type === 'auto-update' && segment.initial_sync_status !== 'DONE') {
    await asyncActionsDb.updateAsyncAction(db, d.id, actionUpdate(d, now)).run();
    return { retryAfterSeconds: 5 };
  }
  let members: Sql;
  try {
    members = (await segmentMembers(db, d.segment_id, now)).predicate;
  } catch (error) {
    if (error instanceof ApiError)
      return fail(db, d, {
        key: 'not_found',
        message: 'Resource not found',
        details: `the segment ${d.segment_id} was deleted during the distribution`,
      });
    throw error;
  }
  const campaign = await campaignsDb.campaignForJob(db, d.campaign_id);
  if (!campaign)
    return fail(db, d, { key: 'not_found', message: 'Resource not found', details: 'the campaign was deleted during the distribution' });
  const codeConfig = campaignsDb.templateOf(campaign).code_config;
  const pacer = new WritePacer(bulkWriteTarget(env), DISTRIBUTION_PACE);
  const deadline = Date.now() + RUN_MS;
  for (;;) {
    if (budget.statements < STATEMENTS_PER_STEP || Date.now() > deadline) return { retryAfterSeconds: 0 };
    const stepAt = Date.now();
    const range = { after: d.cursor, size: pacer.size, descending: false };
    const statements = distributionsDb.distributionStepStatements(db, { distribution: d, members, range, now: stepAt });
    // OA CampaignBase.type AUTO_UPDATE: codes are made as they are needed; the step's members can
    // take at most range.size of them (spares stay free for later publications).
    if (campaign.type === 'AUTO_UPDATE') {
      const candidates = [...new Set(generateCodes(codeConfig, range.size + 16))].map((code) => ({ code }));
      statements.unshift(campaignsDb.insertCampaignCodes(db, campaign, candidates, stepAt, { free: range.size }));
    }
    // The pacer gives way before every step but the first, and sizes the next by this one's D1 time.
    const results = await pacer.write(range.size, () => db.batch<Record<string, unknown>>(statements));
    budget.statements -= statements.length + 1;
    const after = results.at(-1)?.results[0] as unknown as distributionsDb.DistributionRow | undefined;
    // No row: another runner moved the cursor first (or ended it): continue from what D1 holds.
    const next: distributionsDb.DistributionRow | null = after ?? (await distributionsDb.findDistribution(db, d.id));
    if (!next) return runDistribution(env, message, budget);
    d = next;
    await asyncActionsDb.updateAsyncAction(db, d.id, actionUpdate(d, Date.now())).run();
    if (d.status !== 'IN_PROGRESS') return;
  }
}

/** A distribution whose message was dead-lettered cannot finish: it ends FAILED, with what it did. */
export async function failDeadLetteredDistribution(db: D1Database, distributionId: string): Promise<void> {
  const d = await distributionsDb.findDistribution(db, distributionId);
  if (d?.status === 'IN_PROGRESS')
    await fail(db, d, {
      key: 'distribution_stopped',
      message: 'The distribution stopped',
      details: 'its queue message failed repeatedly; the members not reached got no code',
    });
}
