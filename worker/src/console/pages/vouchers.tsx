/**
 * @module Vouchers and campaigns: lists, creation, a voucher's enable / disable; and the validate
 * simulator (POST /v1/validations?explain=true: the verdict and, when the API gives it, why).
 */
import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { ExplainNode } from '../../../../shared/explain';
import type { Voucher, VoucherList } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { readForm } from '../form';
import { ExplainTree, findExplanations } from '../explain';
import { Empty, ErrorAlert, fragment, isHtmx, Layout, money, Notice, page, Pager, plural, toMinor, when } from '../ui';

const enc = encodeURIComponent;
const PAGE_SIZE = 25;
type Form = Record<string, string>;

async function formOf(c: Context<AppBindings>): Promise<Form> {
  const body = await readForm(c);
  const out: Form = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

const DISCOUNT_TYPES = [
  ['AMOUNT', 'Amount off the order'],
  ['PERCENT', 'Percent off the order'],
  ['FIXED', 'Order at a fixed price'],
] as const;

/** The discount of a form (type + value), or the reason it is not one. */
export function discountOf(form: Form): { discount: Record<string, unknown> } | { problem: string } {
  const type = form.discount_type ?? 'AMOUNT';
  const value = form.discount_value ?? '';
  if (type === 'PERCENT') {
    const percent = Number(value);
    if (!value || !Number.isFinite(percent) || percent <= 0 || percent > 100) return { problem: 'Discount: a percentage above 0 and at most 100.' };
    return { discount: { type, percent_off: percent } };
  }
  const minor = toMinor(value);
  if (minor === null) return { problem: 'Discount: an amount such as 5 or 4.99.' };
  return { discount: type === 'FIXED' ? { type, fixed_amount: minor } : { type: 'AMOUNT', amount_off: minor } };
}

/** A date input's YYYY-MM-DD as the API's ISO instant (00:00 UTC), or nothing when empty. */
const day = (value: string | undefined) => (value ? `${value}T00:00:00.000Z` : undefined);

const describeDiscount = (d: Record<string, any> | undefined): string => {
  if (!d) return '—';
  if (d.type === 'AMOUNT') return `${money(d.amount_off)} off`;
  if (d.type === 'PERCENT') return `${d.percent_off} % off`;
  if (d.type === 'FIXED') return `fixed price ${money(d.fixed_amount)}`;
  return String(d.type);
};

const DiscountFields: FC<{ form: Form; prefix: string }> = ({ form, prefix }) => (
  <div class="row">
    <div>
      <label for={`${prefix}-discount-type`}>Discount</label>
      <select id={`${prefix}-discount-type`} name="discount_type">
        {DISCOUNT_TYPES.map(([value, label]) => (
          <option value={value} selected={form.discount_type === value}>
            {label}
          </option>
        ))}
      </select>
    </div>
    <div>
      <label for={`${prefix}-discount-value`}>Value (amount or percent)</label>
      <input id={`${prefix}-discount-value`} name="discount_value" inputmode="decimal" required value={form.discount_value ?? ''} />
    </div>
  </div>
);

const DateFields: FC<{ form: Form; prefix: string }> = ({ form, prefix }) => (
  <div class="row">
    <div>
      <label for={`${prefix}-start`}>Valid from (optional)</label>
      <input id={`${prefix}-start`} name="start_date" type="date" value={form.start_date ?? ''} />
    </div>
    <div>
      <label for={`${prefix}-end`}>Expires (optional)</label>
      <input id={`${prefix}-end`} name="expiration_date" type="date" value={form.expiration_date ?? ''} />
    </div>
  </div>
);

// ---- Vouchers

export const VoucherRow: FC<{ voucher: Voucher; error?: ApiProblem }> = ({ voucher: v, error }) => (
  <tr id={`voucher-${v.id}`}>
    <td>
      <code>{v.code}</code>
      {error && <ErrorAlert error={error} />}
    </td>
    <td>{describeDiscount(v.discount as Record<string, any>)}</td>
    <td>{v.campaign ?? '—'}</td>
    <td>
      {v.redemption?.redeemed_quantity ?? 0}
      {v.redemption?.quantity ? ` of ${v.redemption.quantity}` : ''}
    </td>
    <td>
      {when(v.start_date)} – {when(v.expiration_date)}
    </td>
    <td data-testid="voucher-state">{v.active ? 'Active' : 'Disabled'}</td>
    <td>
      <form
        method="post"
        action={`/console/vouchers/${enc(v.code)}/${v.active ? 'disable' : 'enable'}`}
        hx-post={`/console/vouchers/${enc(v.code)}/${v.active ? 'disable' : 'enable'}`}
        hx-target={`#voucher-${v.id}`}
        hx-swap="outerHTML"
      >
        <button type="submit" class="secondary" aria-label={`${v.active ? 'Disable' : 'Enable'} ${v.code}`}>
          {v.active ? 'Disable' : 'Enable'}
        </button>
      </form>
    </td>
  </tr>
);

const VoucherForm: FC<{ form: Form }> = ({ form }) => (
  <form method="post" action="/console/vouchers" aria-labelledby="new-voucher-h">
    <h2 id="new-voucher-h">Create a voucher</h2>
    <label for="voucher-code">Code (empty: generated)</label>
    <input id="voucher-code" name="code" value={form.code ?? ''} autocomplete="off" />
    <DiscountFields form={form} prefix="voucher" />
    <DateFields form={form} prefix="voucher" />
    <label for="voucher-quantity">Redemptions allowed (empty: unlimited)</label>
    <input id="voucher-quantity" name="quantity" inputmode="numeric" value={form.quantity ?? ''} />
    <p>
      <button type="submit">Create voucher</button>
    </p>
  </form>
);

async function vouchersPage(fetcher: ApiFetch, c: Context<AppBindings>, form: Form = {}, problem?: ApiProblem | string, done?: string) {
  const api = new ConsoleApi(fetcher, c);
  const pageNo = Math.max(1, Math.min(99, Number(c.req.query('page')) || 1));
  const campaignId = c.req.query('campaign_id') ?? '';
  const query = new URLSearchParams({ limit: String(PAGE_SIZE), page: String(pageNo) });
  if (campaignId) query.set('campaign_id', campaignId);
  const res = await api.get<VoucherList>(`/v1/vouchers?${query}`);
  return page(
    c,
    <Layout title={campaignId ? `Vouchers of ${campaignId}` : 'Vouchers'} section="vouchers">
      {problem && <ErrorAlert error={problem} />}
      {done && <Notice>{done}</Notice>}
      <section aria-label="Voucher list">
        {!res.ok ? (
          <ErrorAlert error={res.error} />
        ) : res.body.vouchers.length === 0 ? (
          <Empty>No vouchers yet.</Empty>
        ) : (
          <>
            <p class="muted">{plural(res.body.total, 'voucher')}.</p>
            <table data-testid="voucher-table">
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Discount</th>
                  <th scope="col">Campaign</th>
                  <th scope="col">Redeemed</th>
                  <th scope="col">Valid</th>
                  <th scope="col">State</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {res.body.vouchers.map((v) => (
                  <VoucherRow voucher={v} />
                ))}
              </tbody>
            </table>
            <Pager base="/console/vouchers" params={{ campaign_id: campaignId || undefined }} page={pageNo} hasMore={pageNo * PAGE_SIZE < res.body.total} />
          </>
        )}
      </section>
      <section>
        <VoucherForm form={form} />
      </section>
    </Layout>,
    problem ? 400 : res.ok ? 200 : 400,
  );
}

export function voucherPages(fetcher: ApiFetch) {
  const toggle = (active: boolean) => async (c: Context<AppBindings>) => {
    const api = new ConsoleApi(fetcher, c);
    const code = c.req.param('code') as string;
    const res = await api.post<Voucher>(`/v1/vouchers/${enc(code)}/${active ? 'enable' : 'disable'}`);
    if (!isHtmx(c)) return res.ok ? c.redirect('/console/vouchers', 303) : vouchersPage(fetcher, c, {}, res.error);
    if (res.ok) return fragment(c, <VoucherRow voucher={res.body} />);
    const current = await api.get<Voucher>(`/v1/vouchers/${enc(code)}`);
    return current.ok ? fragment(c, <VoucherRow voucher={current.body} error={res.error} />) : fragment(c, <ErrorAlert error={res.error} />);
  };
  return new Hono<AppBindings>()
    .get('/', (c) => vouchersPage(fetcher, c))
    .post('/', async (c) => {
      const form = await formOf(c);
      const discount = discountOf(form);
      if ('problem' in discount) return vouchersPage(fetcher, c, form, discount.problem);
      const quantity = form.quantity ? Number(form.quantity) : undefined;
      if (quantity !== undefined && !(Number.isInteger(quantity) && quantity > 0)) return vouchersPage(fetcher, c, form, 'Redemptions allowed: a whole number above 0, or empty.');
      const api = new ConsoleApi(fetcher, c);
      const res = await api.post<Voucher>('/v1/vouchers', {
        ...(form.code ? { code: form.code } : {}),
        type: 'DISCOUNT_VOUCHER',
        discount: discount.discount,
        start_date: day(form.start_date),
        expiration_date: day(form.expiration_date),
        ...(quantity ? { redemption: { quantity } } : {}),
      });
      if (!res.ok) return vouchersPage(fetcher, c, form, res.error);
      return vouchersPage(fetcher, c, {}, undefined, `Voucher ${res.body.code} created.`);
    })
    .post('/:code/enable', toggle(true))
    .post('/:code/disable', toggle(false));
}

// ---- Campaigns

interface Campaign {
  id: string;
  name: string;
  active: boolean;
  vouchers_count?: number;
  start_date?: string | null;
  expiration_date?: string | null;
  voucher?: { discount?: Record<string, unknown>; code_config?: { prefix?: string | null } };
  created_at: string;
}

const CampaignForm: FC<{ form: Form }> = ({ form }) => (
  <form method="post" action="/console/campaigns" aria-labelledby="new-campaign-h">
    <h2 id="new-campaign-h">Create a campaign</h2>
    <label for="campaign-name">Name</label>
    <input id="campaign-name" name="name" required value={form.name ?? ''} />
    <DiscountFields form={form} prefix="campaign" />
    <div class="row">
      <div>
        <label for="campaign-count">Codes to generate</label>
        <input id="campaign-count" name="vouchers_count" inputmode="numeric" value={form.vouchers_count ?? '10'} />
      </div>
      <div>
        <label for="campaign-prefix">Code prefix (optional)</label>
        <input id="campaign-prefix" name="prefix" value={form.prefix ?? ''} />
      </div>
    </div>
    <DateFields form={form} prefix="campaign" />
    <p>
      <button type="submit">Create campaign</button>
    </p>
  </form>
);

async function campaignsPage(fetcher: ApiFetch, c: Context<AppBindings>, form: Form = {}, problem?: ApiProblem | string, done?: string) {
  const api = new ConsoleApi(fetcher, c);
  const res = await api.get<{ campaigns: Campaign[]; total: number }>('/v1/campaigns?limit=100');
  return page(
    c,
    <Layout title="Campaigns" section="campaigns">
      {problem && <ErrorAlert error={problem} />}
      {done && <Notice>{done}</Notice>}
      <section aria-label="Campaign list">
        {!res.ok ? (
          <ErrorAlert error={res.error} />
        ) : res.body.campaigns.length === 0 ? (
          <Empty>No campaigns yet.</Empty>
        ) : (
          <table data-testid="campaign-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Discount</th>
                <th scope="col">Codes</th>
                <th scope="col">Valid</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {res.body.campaigns.map((k) => (
                <tr>
                  <td>
                    <a href={`/console/vouchers?campaign_id=${enc(k.id)}`}>{k.name}</a>
                  </td>
                  <td>{describeDiscount(k.voucher?.discount as Record<string, any>)}</td>
                  <td>{k.vouchers_count ?? 0}</td>
                  <td>
                    {when(k.start_date)} – {when(k.expiration_date)}
                  </td>
                  <td>{k.active ? 'Active' : 'Inactive'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="hint">The API has no campaign-wide switch: enable or disable a campaign's codes from its voucher list.</p>
      </section>
      <section>
        <CampaignForm form={form} />
      </section>
    </Layout>,
    problem ? 400 : res.ok ? 200 : 400,
  );
}

export function campaignPages(fetcher: ApiFetch) {
  return new Hono<AppBindings>()
    .get('/', (c) => campaignsPage(fetcher, c))
    .post('/', async (c) => {
      const form = await formOf(c);
      const discount = discountOf(form);
      if ('problem' in discount) return campaignsPage(fetcher, c, form, discount.problem);
      const count = Number(form.vouchers_count || '0');
      if (!Number.isInteger(count) || count < 0) return campaignsPage(fetcher, c, form, 'Codes to generate: a whole number.');
      const api = new ConsoleApi(fetcher, c);
      const res = await api.post<Campaign>('/v1/campaigns', {
        name: form.name ?? '',
        campaign_type: 'DISCOUNT_COUPONS',
        vouchers_count: count,
        start_date: day(form.start_date),
        expiration_date: day(form.expiration_date),
        voucher: { type: 'DISCOUNT_VOUCHER', discount: discount.discount, ...(form.prefix ? { code_config: { prefix: form.prefix, length: 8 } } : {}) },
      });
      if (!res.ok) return campaignsPage(fetcher, c, form, res.error);
      return campaignsPage(fetcher, c, {}, undefined, `Campaign ${res.body.name} created.`);
    });
}

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
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const [sku, quantity, price] = line.split(',').map((p) => p.trim());
    const minor = toMinor(price ?? '');
    const qty = Number(quantity);
    if (!sku || !Number.isInteger(qty) || qty < 1 || minor === null) return { problem: `Items, line ${i + 1}: write sku,quantity,price (e.g. shoes-1,2,19.99).` };
    items.push({ sku_id: sku, quantity: qty, price: minor });
  }
  return { items };
}

const SimulatorForm: FC<{ form: Form }> = ({ form }) => (
  <form method="post" action="/console/simulator" hx-post="/console/simulator" hx-target="#verdict" hx-select="#verdict" hx-swap="outerHTML">
    <p class="hint">A simulation is a real server-side validation: it is recorded in the customer's activity, and nothing is redeemed.</p>
    <label for="sim-code">Voucher code</label>
    <input id="sim-code" name="code" required value={form.code ?? ''} autocomplete="off" />
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
      <button type="submit">Validate</button> <span class="htmx-indicator muted">Validating…</span>
    </p>
  </form>
);

const Verdict: FC<{ body?: Record<string, any>; problem?: ApiProblem | string }> = ({ body, problem }) => {
  const redeemables: RedeemableVerdict[] = body ? [...(body.redeemables ?? []), ...(body.inapplicable_redeemables ?? []), ...(body.skipped_redeemables ?? [])] : [];
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

export function simulatorPages(fetcher: ApiFetch) {
  const render = (c: Context<AppBindings>, form: Form, verdict?: { body?: Record<string, any>; problem?: ApiProblem | string }) =>
    page(
      c,
      <Layout title="Validate simulator" section="simulator">
        <section>
          <SimulatorForm form={form} />
        </section>
        {verdict ? <Verdict {...verdict} /> : <section id="verdict" aria-live="polite" aria-label="Verdict"></section>}
      </Layout>,
    );
  return new Hono<AppBindings>()
    .get('/', (c) => render(c, {}))
    .post('/', async (c) => {
      const form = await formOf(c);
      const amount = toMinor(form.amount ?? '');
      if (amount === null) return render(c, form, { problem: 'Order amount: an amount such as 25 or 24.99.' });
      const items = itemsOf(form.items ?? '');
      if ('problem' in items) return render(c, form, { problem: items.problem });
      const ref = form.customer ?? '';
      const api = new ConsoleApi(fetcher, c);
      const res = await api.post<Record<string, any>>('/v1/validations?explain=true', {
        redeemables: [{ object: 'voucher', id: form.code ?? '' }],
        order: { amount, ...(items.items.length ? { items: items.items } : {}) },
        ...(ref ? { customer: ref.startsWith('cust_') ? { id: ref } : { source_id: ref } } : {}),
        ...(form.tracking_id ? { tracking_id: form.tracking_id } : {}),
      });
      return render(c, form, res.ok ? { body: res.body } : { problem: res.error });
    });
}
