/**
 * @module The validate simulator (POST /v1/validations?explain=true: the verdict and, when the API
 * gives it, why), and its second question, "which offers qualify?" (POST /v1/qualifications, each
 * offer with its verdict, discount and explanation).
 */

import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { ExplainNode } from '../../../../shared/explain';
import type { Voucher } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { ExplainTree, findExplanations } from '../explain';
import { Empty, ErrorAlert, Layout, money, Notice, page, toMinor } from '../ui';
import type { PromotionTier } from './promotions';
import { describeDiscount, type Form, formOf } from './vouchers';

// ---- Validate simulator

interface RedeemableVerdict {
  id: string;
  status?: string;
  result?: { error?: ApiProblem; discount?: Record<string, unknown> };
  order?: { discount_amount?: number; total_amount?: number };
}

/** "sku,quantity,price" per line (price as a decimal amount) → order items, or the line that is not one. */
export function itemsOf(text: string): { items: { sku_id: string; quantity: number; price: number }[] } | { problem: string } {
  const items: { sku_id: string; quantity: number; price: number }[] = [];
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const [sku, quantity, price] = line.split(',').map((p) => p.trim());
    const minor = toMinor(price ?? '');
    const qty = Number(quantity);
    if (!sku || !Number.isInteger(qty) || qty < 1 || minor === null)
      return { problem: `Items, line ${i + 1}: write sku,quantity,price (e.g. shoes-1,2,19.99).` };
    items.push({ sku_id: sku, quantity: qty, price: minor });
  }
  return { items };
}

const SimulatorForm: FC<{ form: Form }> = ({ form }) => (
  <form
    method="post"
    action="/console/simulator"
    hx-post="/console/simulator"
    hx-target="#verdict"
    hx-select="#verdict"
    hx-swap="outerHTML"
  >
    <p class="hint">A simulation is a real server-side validation: it is recorded in the customer's activity, and nothing is redeemed.</p>
    <label for="sim-code">Voucher code (to validate; optional for offers)</label>
    <input id="sim-code" name="code" value={form.code ?? ''} autocomplete="off" />
    <div class="row">
      <div>
        <label for="sim-customer">Customer id or source id (optional)</label>
        <input id="sim-customer" name="customer" value={form.customer ?? ''} />
      </div>
      <div>
        <label for="sim-tracking">Tracking id (optional)</label>
        <input id="sim-tracking" name="tracking_id" value={form.tracking_id ?? ''} placeholder="track_…" />
      </div>
    </div>
    <label for="sim-amount">Order amount</label>
    <input id="sim-amount" name="amount" inputmode="decimal" required value={form.amount ?? ''} />
    <label for="sim-items">Items (optional): one per line as sku,quantity,price</label>
    <textarea id="sim-items" name="items" rows={3}>
      {form.items ?? ''}
    </textarea>
    <p>
      <button type="submit" name="mode" value="validate">
        Validate
      </button>{' '}
      <button type="submit" name="mode" value="qualify" class="secondary">
        Which offers qualify?
      </button>{' '}
      <span class="htmx-indicator muted">Asking…</span>
    </p>
  </form>
);

const Verdict: FC<{ body?: Record<string, any>; problem?: ApiProblem | string }> = ({ body, problem }) => {
  const redeemables: RedeemableVerdict[] = body
    ? [...(body.redeemables ?? []), ...(body.inapplicable_redeemables ?? []), ...(body.skipped_redeemables ?? [])]
    : [];
  const explanations: ExplainNode[] = body ? findExplanations(body) : [];
  return (
    <section id="verdict" aria-live="polite" aria-label="Verdict" data-testid="verdict">
      {problem && <ErrorAlert error={problem} />}
      {body && (
        <>
          <p>
            Verdict:{' '}
            <strong class={body.valid ? 'pass' : 'fail'} data-testid="verdict-valid">
              {body.valid ? 'Valid' : 'Not valid'}
            </strong>
            {body.order && (
              <>
                {' '}
                · order {money(body.order.amount)}, discount {money(body.order.total_discount_amount ?? body.order.discount_amount)}, to pay{' '}
                {money(body.order.total_amount ?? body.order.amount)}
              </>
            )}
          </p>
          <ul>
            {redeemables.map((r) => (
              <li>
                <code>{r.id}</code> {r.status ?? ''}
                {r.result?.error && <ErrorAlert error={{ ...r.result.error, code: 400 }} testId="redeemable-error" />}
              </li>
            ))}
          </ul>
          {explanations.length > 0 ? (
            explanations.map((node) => <ExplainTree node={node} label="Why" />)
          ) : (
            <Empty>No explanation in the answer (the API gives one with explain=true where it supports it).</Empty>
          )}
        </>
      )}
    </section>
  );
};

/** One offer of a qualification answer (qualifications.json QualificationsRedeemableBase), as far as the page shows it. */
interface QualifiedOffer {
  id: string;
  object: 'voucher' | 'promotion_tier';
  name?: string;
  banner?: string;
  campaign_name?: string;
  result?: { discount?: Record<string, any> };
  order?: { total_discount_amount?: number; total_amount?: number };
}

/** What the page shows of one offer: the qualification's verdict, and the validate explanation when the API gave one. */
interface OfferVerdict {
  id: string;
  kind: 'voucher' | 'promotion_tier';
  name?: string;
  banner?: string | null;
  qualifies: boolean;
  discount?: Record<string, any>;
  order?: QualifiedOffer['order'];
  explanation?: ExplainNode;
  reason?: ApiProblem;
}

interface Qualification {
  offers: OfferVerdict[];
  /** Offers beyond the qualification's page: the tiers not listed cannot be called not qualifying. */
  hasMore: boolean;
  /** Why some offers have no explanation (the API refused to explain that kind of offer). */
  unexplained: { kind: OfferVerdict['kind']; problem: ApiProblem }[];
}

/** The most offers a qualification lists (qualifications.json QualificationsOption.limit, maximum 50). */
const QUALIFY_LIMIT = 50;
/** The most redeemables one POST /v1/validations judges (stacking_rules.redeemables_limit). */
const EXPLAIN_LIMIT = 30;

const Qualified: FC<{ result?: Qualification; problem?: ApiProblem | string }> = ({ result, problem }) => (
  <section id="verdict" aria-live="polite" aria-label="Offers" data-testid="offers">
    {problem && <ErrorAlert error={problem} />}
    {result && (
      <>
        <p>
          <strong data-testid="offers-count">
            {result.offers.filter((o) => o.qualifies).length} of {result.offers.length} offers qualify
          </strong>{' '}
          <span class="muted">
            (POST /v1/qualifications lists those that qualify; the promotion tiers it leaves out are shown as not qualifying. Codes are
            shown only when they qualify, or when typed above.)
          </span>
        </p>
        {result.hasMore && (
          <Notice>More offers qualify than one answer lists ({QUALIFY_LIMIT}): the tiers not listed are not judged here.</Notice>
        )}
        {result.unexplained.map(({ kind, problem }) => (
          <ErrorAlert
            error={{
              ...problem,
              message: `No explanation of the ${kind === 'voucher' ? 'codes' : 'promotion tiers'}, validate answered: ${problem.message ?? ''}`,
            }}
            testId="unexplained"
          />
        ))}
        {result.offers.length === 0 ? (
          <Empty>No offer qualifies, and there are no promotion tiers.</Empty>
        ) : (
          <ul class="offers">
            {result.offers.map((o) => (
              <li data-testid="offer" data-offer={o.id} data-qualifies={String(o.qualifies)}>
                <strong class={o.qualifies ? 'pass' : 'fail'}>{o.qualifies ? 'Qualifies' : 'Does not qualify'}</strong>{' '}
                {o.kind === 'promotion_tier' ? 'tier' : 'code'} <code>{o.id}</code>
                {o.name && <> {o.name}</>}
                {o.banner && <span class="muted"> “{o.banner}”</span>}
                {o.qualifies && (
                  <>
                    {' '}
                    · {describeDiscount(o.discount)}: discount {money(o.order?.total_discount_amount)}, to pay{' '}
                    {money(o.order?.total_amount)}
                  </>
                )}
                {o.reason && <ErrorAlert error={{ ...o.reason, code: 400 }} testId="offer-reason" />}
                {o.explanation && <ExplainTree node={o.explanation} label={`Why ${o.id}`} />}
              </li>
            ))}
          </ul>
        )}
      </>
    )}
  </section>
);

type Explained = Map<string, { explanation?: ExplainNode; reason?: ApiProblem }>;

/**
 * The explanations of the offers, by POST /v1/validations?explain=true: one call for the codes and
 * one for the tiers, so that an API that does not judge one kind still explains the other. Each
 * redeemable of a stackable validate is judged alone (the same judge as qualifications), so its
 * explanation is that offer's.
 */
async function explain(api: ConsoleApi, kind: 'voucher' | 'promotion_tier', ids: string[], context: Record<string, unknown>) {
  const out: Explained = new Map();
  if (ids.length === 0) return { out, refused: undefined };
  const res = await api.post<{ redeemables?: (RedeemableVerdict & { explanation?: ExplainNode })[] }>('/v1/validations?explain=true', {
    ...context,
    redeemables: ids.slice(0, EXPLAIN_LIMIT).map((id) => ({ object: kind, id })),
  });
  if (!res.ok) return { out, refused: res.error };
  for (const r of res.body.redeemables ?? [])
    out.set(r.id, { explanation: r.explanation, reason: r.result?.error ? { ...r.result.error, code: 400 } : undefined });
  return { out, refused: undefined };
}

/**
 * "Which offers qualify?": POST /v1/qualifications (scenario ALL) for the customer and cart, the
 * promotion tiers it did not list (GET /v1/promotions/tiers) as not qualifying, and each offer's
 * explanation from validate.
 */
async function qualification(
  api: ConsoleApi,
  context: Record<string, unknown>,
  code: string,
): Promise<{ result?: Qualification; problem?: ApiProblem }> {
  const [answer, tiers] = await Promise.all([
    api.post<{ redeemables: { data: QualifiedOffer[]; has_more: boolean } }>('/v1/qualifications', {
      ...context,
      scenario: 'ALL',
      options: { limit: QUALIFY_LIMIT },
    }),
    api.get<{ tiers: PromotionTier[] }>('/v1/promotions/tiers?limit=100'),
  ]);
  if (!answer.ok) return { problem: answer.error };
  const listed = answer.body.redeemables.data;
  const hasMore = answer.body.redeemables.has_more;
  const offers: OfferVerdict[] = listed.map((r) => ({
    id: r.id,
    kind: r.object,
    name: r.name ?? r.campaign_name,
    banner: r.banner,
    qualifies: true,
    discount: r.result?.discount,
    order: r.order,
  }));
  const seen = new Set(offers.map((o) => o.id));
  if (!hasMore && tiers.ok)
    for (const t of tiers.body.tiers)
      if (!seen.has(t.id)) offers.push({ id: t.id, kind: 'promotion_tier', name: t.name, banner: t.banner, qualifies: false });
  if (code && !seen.has(code) && !hasMore) offers.push({ id: code, kind: 'voucher', qualifies: false });
  const ids = (kind: OfferVerdict['kind']) => offers.filter((o) => o.kind === kind).map((o) => o.id);
  const [codes, promotionTiers] = await Promise.all([
    explain(api, 'voucher', ids('voucher'), context),
    explain(api, 'promotion_tier', ids('promotion_tier'), context),
  ]);
  for (const o of offers) Object.assign(o, (o.kind === 'voucher' ? codes : promotionTiers).out.get(o.id) ?? {});
  const unexplained = (
    [
      ['voucher', codes.refused],
      ['promotion_tier', promotionTiers.refused],
    ] as const
  ).flatMap(([kind, problem]) => (problem ? [{ kind, problem }] : []));
  return { result: { offers, hasMore, unexplained } };
}

export function simulatorPages(fetcher: ApiFetch) {
  const render = (
    c: Context<AppBindings>,
    form: Form,
    verdict?: { body?: Record<string, any>; problem?: ApiProblem | string },
    offers?: { result?: Qualification; problem?: ApiProblem | string },
  ) =>
    page(
      c,
      <Layout title="Validate simulator" section="simulator">
        <section>
          <SimulatorForm form={form} />
        </section>
        {offers ? (
          <Qualified {...offers} />
        ) : verdict ? (
          <Verdict {...verdict} />
        ) : (
          <section id="verdict" aria-live="polite" aria-label="Verdict"></section>
        )}
      </Layout>,
    );
  return new Hono<AppBindings>()
    .get('/', (c) => render(c, {}))
    .post('/', async (c) => {
      const form = await formOf(c);
      const qualify = form.mode === 'qualify';
      const refuse = (problem: string) => (qualify ? render(c, form, undefined, { problem }) : render(c, form, { problem }));
      const amount = toMinor(form.amount ?? '');
      if (amount === null) return refuse('Order amount: an amount such as 25 or 24.99.');
      const items = itemsOf(form.items ?? '');
      if ('problem' in items) return refuse(items.problem);
      const ref = form.customer ?? '';
      const context = {
        order: { amount, ...(items.items.length ? { items: items.items } : {}) },
        ...(ref ? { customer: ref.startsWith('cust_') ? { id: ref } : { source_id: ref } } : {}),
        ...(form.tracking_id ? { tracking_id: form.tracking_id } : {}),
      };
      const api = new ConsoleApi(fetcher, c);
      if (qualify) return render(c, form, undefined, await qualification(api, context, form.code ?? ''));
      if (!form.code) return refuse('Voucher code: needed to validate (or ask which offers qualify).');
      const res = await api.post<Record<string, any>>('/v1/validations?explain=true', {
        redeemables: [{ object: 'voucher', id: form.code }],
        ...context,
      });
      return render(c, form, res.ok ? { body: res.body } : { problem: res.error });
    });
}
