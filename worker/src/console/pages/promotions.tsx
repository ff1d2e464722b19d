/**
 * @module Promotions: PROMOTION campaigns and their tiers (code-less offers such as "10 % off for
 * Gold customers"), a promotion created with its first tier, and per tier: edit, enable / disable,
 * delete. Everything through the public API (GET /v1/campaigns?campaign_type=PROMOTION, POST
 * /v1/campaigns, /v1/promotions/tiers/{id}…), as a shop's backend would call it.
 */

import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import { parseRuleSet, ruleSetSegmentIds } from '../../../../shared/rules';
import type { Segment } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { Empty, ErrorAlert, fragment, isHtmx, Layout, money, Notice, page, when } from '../ui';
import { DateFields, day, describeDiscount, DiscountFields, discountOf, enc, type Form, formOf } from './vouchers';

export interface PromotionTier {
  id: string;
  name: string;
  banner: string | null;
  action: { discount: Record<string, any> };
  metadata: Record<string, unknown>;
  hierarchy: number;
  active: boolean;
  campaign_id: string;
  start_date: string | null;
  expiration_date: string | null;
  validation_rule_assignments: { data: { rule_id: string }[] };
}

interface PromotionCampaign {
  id: string;
  name: string;
  active: boolean;
  start_date?: string | null;
  expiration_date?: string | null;
  promotion?: { tiers: PromotionTier[] };
}

/** Segment names by id (one list call); a segment not in the first 100 shows by its id. */
type SegmentNames = Map<string, string>;

async function segmentNames(api: ConsoleApi): Promise<SegmentNames> {
  const res = await api.get<{ data: Segment[] }>('/v1/segments?limit=100');
  return new Map(res.ok ? res.body.data.map((s) => [s.id, s.name] as const) : []);
}

/**
 * The segments each rule names (`customer.segment` conditions), read through GET
 * /v1/validation-rules/{id}: one call per distinct rule of the tiers shown. A rule the grammar
 * cannot read (it could not have been saved) names none.
 */
async function segmentsOfRules(api: ConsoleApi, ruleIds: string[]): Promise<Map<string, string[]>> {
  const unique = [...new Set(ruleIds)];
  const rules = await Promise.all(unique.map((id) => api.get<{ id: string; rules: unknown }>(`/v1/validation-rules/${enc(id)}`)));
  const out = new Map<string, string[]>();
  unique.forEach((id, i) => {
    const res = rules[i];
    let segments: string[] = [];
    if (res?.ok) {
      try {
        segments = ruleSetSegmentIds(parseRuleSet(res.body.rules));
      } catch {
        segments = [];
      }
    }
    out.set(id, segments);
  });
  return out;
}

/** What a tier row needs besides the tier: the segment names of its rules. */
interface RowContext {
  names: SegmentNames;
  ruleSegments: Map<string, string[]>;
}

const ruleIdsOf = (tier: PromotionTier) => tier.validation_rule_assignments?.data.map((a) => a.rule_id) ?? [];

async function rowContext(api: ConsoleApi, tiers: PromotionTier[]): Promise<RowContext> {
  const [names, ruleSegments] = await Promise.all([segmentNames(api), segmentsOfRules(api, tiers.flatMap(ruleIdsOf))]);
  return { names, ruleSegments };
}

const tierSegments = (tier: PromotionTier, ctx: RowContext): string => {
  const ids = [...new Set(ruleIdsOf(tier).flatMap((r) => ctx.ruleSegments.get(r) ?? []))];
  if (ids.length === 0) return ruleIdsOf(tier).length ? 'rules, no segment' : 'everyone';
  return ids.map((id) => ctx.names.get(id) ?? id).join(', ');
};

export const TierRow: FC<{ tier: PromotionTier; ctx: RowContext; error?: ApiProblem }> = ({ tier: t, ctx, error }) => {
  const base = `/console/promotions/tiers/${enc(t.id)}`;
  const toggle = `${base}/${t.active ? 'disable' : 'enable'}`;
  return (
    <tr id={`tier-${t.id}`} data-testid="tier-row">
      <td>
        <a href={base}>{t.name}</a>
        {error && <ErrorAlert error={error} />}
      </td>
      <td>{t.banner ?? '—'}</td>
      <td>{describeDiscount(t.action?.discount)}</td>
      <td>{t.hierarchy}</td>
      <td data-testid="tier-state">{t.active ? 'Active' : 'Disabled'}</td>
      <td>
        {when(t.start_date)} – {when(t.expiration_date)}
      </td>
      <td data-testid="tier-segments">{tierSegments(t, ctx)}</td>
      <td>
        <form method="post" action={toggle} hx-post={toggle} hx-target={`#tier-${t.id}`} hx-swap="outerHTML" class="inline">
          <button type="submit" class="secondary" aria-label={`${t.active ? 'Disable' : 'Enable'} ${t.name}`}>
            {t.active ? 'Disable' : 'Enable'}
          </button>
        </form>{' '}
        <form
          method="post"
          action={`${base}/delete`}
          hx-post={`${base}/delete`}
          hx-target={`#tier-${t.id}`}
          hx-swap="outerHTML"
          class="inline"
        >
          <button type="submit" class="secondary" aria-label={`Delete ${t.name}`}>
            Delete
          </button>
        </form>
      </td>
    </tr>
  );
};

const TierTable: FC<{ campaign: PromotionCampaign; ctx: RowContext }> = ({ campaign, ctx }) => {
  const tiers = campaign.promotion?.tiers ?? [];
  return (
    <section aria-labelledby={`promo-${campaign.id}-h`} data-testid="promotion">
      <h2 id={`promo-${campaign.id}-h`}>{campaign.name}</h2>
      <p class="muted">
        {campaign.active ? 'Active' : 'Inactive'} · valid {when(campaign.start_date)} – {when(campaign.expiration_date)} ·{' '}
        <code>{campaign.id}</code>
      </p>
      {tiers.length === 0 ? (
        <Empty>No tiers.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Tier</th>
              <th scope="col">Banner</th>
              <th scope="col">Discount</th>
              <th scope="col">Hierarchy</th>
              <th scope="col">State</th>
              <th scope="col">Valid</th>
              <th scope="col">For</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tiers.map((t) => (
              <TierRow tier={t} ctx={ctx} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
};

const PromotionForm: FC<{ form: Form; segments: SegmentNames }> = ({ form, segments }) => (
  <form method="post" action="/console/promotions" aria-labelledby="new-promotion-h">
    <h2 id="new-promotion-h">Create a promotion</h2>
    <label for="promo-name">Promotion name</label>
    <input id="promo-name" name="name" required value={form.name ?? ''} />
    <div class="row">
      <div>
        <label for="promo-tier-name">First tier's name</label>
        <input id="promo-tier-name" name="tier_name" required value={form.tier_name ?? ''} />
      </div>
      <div>
        <label for="promo-banner">Banner shown to shoppers (optional)</label>
        <input id="promo-banner" name="banner" value={form.banner ?? ''} />
      </div>
    </div>
    <DiscountFields form={form} prefix="promo" />
    <label for="promo-segment">Only for members of (optional)</label>
    <select id="promo-segment" name="segment_id">
      <option value="">Everyone</option>
      {[...segments].map(([id, name]) => (
        <option value={id} selected={form.segment_id === id}>
          {name}
        </option>
      ))}
    </select>
    <DateFields form={form} prefix="promo" />
    <p>
      <button type="submit">Create promotion</button>
    </p>
  </form>
);

async function promotionsPage(fetcher: ApiFetch, c: Context<AppBindings>, form: Form = {}, problem?: ApiProblem | string, done?: string) {
  const api = new ConsoleApi(fetcher, c);
  const res = await api.get<{ campaigns: PromotionCampaign[]; total: number }>('/v1/campaigns?campaign_type=PROMOTION&limit=100');
  const campaigns = res.ok ? res.body.campaigns : [];
  const ctx = await rowContext(
    api,
    campaigns.flatMap((k) => k.promotion?.tiers ?? []),
  );
  return page(
    c,
    <Layout title="Promotions" section="promotions">
      {problem && <ErrorAlert error={problem} />}
      {done && <Notice>{done}</Notice>}
      <p class="hint">
        A promotion's tiers are offers without a code: each applies at checkout to whoever its rules admit. The simulator's{' '}
        <a href="/console/simulator">Which offers qualify?</a> shows who gets which.
      </p>
      {!res.ok ? (
        <ErrorAlert error={res.error} />
      ) : campaigns.length === 0 ? (
        <Empty>No promotions yet.</Empty>
      ) : (
        campaigns.map((k) => <TierTable campaign={k} ctx={ctx} />)
      )}
      <section>
        <PromotionForm form={form} segments={ctx.names} />
      </section>
    </Layout>,
    // A tier that is gone (deleted in another tab) is the API's 404, as the tier's own page answers.
    problem ? (typeof problem !== 'string' && problem.code === 404 ? 404 : 400) : res.ok ? 200 : 400,
  );
}

/** A tier's discount as the discount fields show it (the inverse of discountOf). */
function discountForm(d: Record<string, any> | undefined): Form {
  if (d?.type === 'PERCENT') return { discount_type: 'PERCENT', discount_value: String(d.percent_off ?? '') };
  if (d?.type === 'FIXED') return { discount_type: 'FIXED', discount_value: money(d.fixed_amount) };
  return { discount_type: 'AMOUNT', discount_value: money(d?.amount_off) };
}

const tierForm = (t: PromotionTier): Form => {
  const discount = discountForm(t.action?.discount);
  return {
    name: t.name,
    banner: t.banner ?? '',
    hierarchy: String(t.hierarchy),
    metadata: JSON.stringify(t.metadata ?? {}, null, 2),
    ...discount,
    shown_discount_type: discount.discount_type ?? '',
    shown_discount_value: discount.discount_value ?? '',
  };
};

const TierEditForm: FC<{ id: string; form: Form }> = ({ id, form }) => (
  <form method="post" action={`/console/promotions/tiers/${enc(id)}`} aria-labelledby="edit-tier-h">
    <h2 id="edit-tier-h">Edit the tier</h2>
    <div class="row">
      <div>
        <label for="tier-name">Name</label>
        <input id="tier-name" name="name" required value={form.name ?? ''} />
      </div>
      <div>
        <label for="tier-hierarchy">Hierarchy (1 applies first)</label>
        <input id="tier-hierarchy" name="hierarchy" inputmode="numeric" required value={form.hierarchy ?? ''} />
      </div>
    </div>
    <label for="tier-banner">Banner shown to shoppers (empty: none)</label>
    <input id="tier-banner" name="banner" value={form.banner ?? ''} />
    <DiscountFields form={form} prefix="tier" />
    {/* The discount as shown: unchanged, it is not sent, so what the two fields cannot show (a
        limit, an effect, a UNIT discount) stays as the API holds it. */}
    <input type="hidden" name="shown_discount_type" value={form.shown_discount_type ?? ''} />
    <input type="hidden" name="shown_discount_value" value={form.shown_discount_value ?? ''} />
    <label for="tier-metadata">Metadata (a JSON object)</label>
    <textarea id="tier-metadata" name="metadata" rows={4}>
      {form.metadata ?? '{}'}
    </textarea>
    <p>
      <button type="submit">Save tier</button> <a href="/console/promotions">Back to promotions</a>
    </p>
  </form>
);

async function tierPage(fetcher: ApiFetch, c: Context<AppBindings>, id: string, form?: Form, problem?: ApiProblem | string, done?: string) {
  const api = new ConsoleApi(fetcher, c);
  const res = await api.get<PromotionTier>(`/v1/promotions/tiers/${enc(id)}`);
  if (!res.ok)
    return page(
      c,
      <Layout title="Promotion tier" section="promotions">
        <ErrorAlert error={res.error} />
        <a href="/console/promotions">Back to promotions</a>
      </Layout>,
      res.status === 404 ? 404 : 400,
    );
  const ctx = await rowContext(api, [res.body]);
  return page(
    c,
    <Layout title={`Tier ${res.body.name}`} section="promotions">
      {problem && <ErrorAlert error={problem} />}
      {done && <Notice>{done}</Notice>}
      <p class="muted">
        <code>{res.body.id}</code> · {res.body.active ? 'Active' : 'Disabled'} · {describeDiscount(res.body.action?.discount)} · for{' '}
        {tierSegments(res.body, ctx)}
      </p>
      <section>
        <TierEditForm id={id} form={form ?? tierForm(res.body)} />
      </section>
    </Layout>,
    problem ? 400 : 200,
  );
}

/** The edit form as the API's tier update, or the field that is not one. */
function tierUpdateOf(form: Form): { body: Record<string, unknown> } | { problem: string } {
  const unchanged = form.discount_type === form.shown_discount_type && form.discount_value === form.shown_discount_value;
  const discount = unchanged ? null : discountOf(form);
  if (discount && 'problem' in discount) return discount;
  const hierarchy = Number(form.hierarchy);
  if (!Number.isInteger(hierarchy)) return { problem: 'Hierarchy: a whole number such as 1.' };
  let metadata: unknown;
  try {
    metadata = JSON.parse(form.metadata || '{}');
  } catch {
    return { problem: 'Metadata: not JSON; write an object such as {"label": "gold"}.' };
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    return { problem: 'Metadata: a JSON object such as {"label": "gold"}.' };
  return {
    body: {
      name: form.name ?? '',
      banner: form.banner ? form.banner : null,
      ...(discount ? { action: { discount: discount.discount } } : {}),
      hierarchy,
      metadata,
    },
  };
}

export function promotionPages(fetcher: ApiFetch) {
  /** htmx: the tier's row again, as it now is, with the API's refusal in it when there was one. */
  const rowAfter = async (c: Context<AppBindings>, api: ConsoleApi, id: string, error?: ApiProblem, tier?: PromotionTier) => {
    const current = tier ? { ok: true as const, body: tier } : await api.get<PromotionTier>(`/v1/promotions/tiers/${enc(id)}`);
    if (!current.ok) return fragment(c, <ErrorAlert error={error ?? current.error} />);
    return fragment(c, <TierRow tier={current.body} ctx={await rowContext(api, [current.body])} error={error} />);
  };
  const toggle = (active: boolean) => async (c: Context<AppBindings>) => {
    const api = new ConsoleApi(fetcher, c);
    const id = c.req.param('id') as string;
    const res = await api.post<PromotionTier>(`/v1/promotions/tiers/${enc(id)}/${active ? 'enable' : 'disable'}`);
    if (!isHtmx(c)) return res.ok ? c.redirect('/console/promotions', 303) : promotionsPage(fetcher, c, {}, res.error);
    return res.ok ? rowAfter(c, api, id, undefined, res.body) : rowAfter(c, api, id, res.error);
  };
  return new Hono<AppBindings>()
    .get('/', (c) => promotionsPage(fetcher, c))
    .post('/', async (c) => {
      const form = await formOf(c);
      const discount = discountOf(form);
      if ('problem' in discount) return promotionsPage(fetcher, c, form, discount.problem);
      const api = new ConsoleApi(fetcher, c);
      // The segment's rule first: if the promotion is then refused, what remains is a rule assigned
      // to nothing, which judges nobody; the other order could leave a tier open to everyone.
      let ruleId: string | undefined;
      if (form.segment_id) {
        const rule = await api.post<{ id: string }>('/v1/validation-rules', {
          name: `${form.name || 'Promotion'}: members of ${form.segment_id}`,
          rules: { '1': { name: 'customer.segment', conditions: { $is: [form.segment_id] } } },
        });
        if (!rule.ok) return promotionsPage(fetcher, c, form, rule.error);
        ruleId = rule.body.id;
      }
      const res = await api.post<PromotionCampaign>('/v1/campaigns', {
        name: form.name ?? '',
        campaign_type: 'PROMOTION',
        start_date: day(form.start_date),
        expiration_date: day(form.expiration_date),
        promotion: {
          tiers: [
            {
              name: form.tier_name ?? '',
              ...(form.banner ? { banner: form.banner } : {}),
              action: { discount: discount.discount },
              ...(ruleId ? { validation_rules: [ruleId] } : {}),
            },
          ],
        },
      });
      if (!res.ok) return promotionsPage(fetcher, c, form, res.error);
      return promotionsPage(fetcher, c, {}, undefined, `Promotion ${res.body.name} created.`);
    })
    .get('/tiers/:id', (c) => tierPage(fetcher, c, c.req.param('id')))
    .post('/tiers/:id', async (c) => {
      const id = c.req.param('id');
      const form = await formOf(c);
      const update = tierUpdateOf(form);
      if ('problem' in update) return tierPage(fetcher, c, id, form, update.problem);
      const res = await new ConsoleApi(fetcher, c).call<PromotionTier>('PUT', `/v1/promotions/tiers/${enc(id)}`, update.body);
      if (!res.ok) return tierPage(fetcher, c, id, form, res.error);
      return tierPage(fetcher, c, id, undefined, undefined, 'Tier saved.');
    })
    .post('/tiers/:id/enable', toggle(true))
    .post('/tiers/:id/disable', toggle(false))
    .post('/tiers/:id/delete', async (c) => {
      const id = c.req.param('id');
      const api = new ConsoleApi(fetcher, c);
      const res = await api.call<null>('DELETE', `/v1/promotions/tiers/${enc(id)}`);
      // htmx swaps the row for nothing; a page load goes back to the list.
      if (isHtmx(c)) return res.ok ? fragment(c, '') : rowAfter(c, api, id, res.error);
      return res.ok ? promotionsPage(fetcher, c, {}, undefined, 'Tier deleted.') : promotionsPage(fetcher, c, {}, res.error);
    });
}
