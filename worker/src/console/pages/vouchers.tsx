/**
 * @module Vouchers: the list, creation, a voucher's enable / disable; and what the campaign and
 * simulator pages share with it (the form reading, the discount and date fields).
 */

import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Voucher, VoucherList } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { readForm } from '../form';
import { Empty, ErrorAlert, fragment, isHtmx, Layout, money, Notice, page, Pager, plural, toMinor, when } from '../ui';

export const enc = encodeURIComponent;
const PAGE_SIZE = 25;
export type Form = Record<string, string>;

export async function formOf(c: Context<AppBindings>): Promise<Form> {
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
    if (!value || !Number.isFinite(percent) || percent <= 0 || percent > 100)
      return { problem: 'Discount: a percentage above 0 and at most 100.' };
    return { discount: { type, percent_off: percent } };
  }
  const minor = toMinor(value);
  if (minor === null) return { problem: 'Discount: an amount such as 5 or 4.99.' };
  return { discount: type === 'FIXED' ? { type, fixed_amount: minor } : { type: 'AMOUNT', amount_off: minor } };
}

/** A date input's YYYY-MM-DD as the API's ISO instant (00:00 UTC), or nothing when empty. */
export const day = (value: string | undefined) => (value ? `${value}T00:00:00.000Z` : undefined);

export const describeDiscount = (d: Record<string, any> | undefined): string => {
  if (!d) return '—';
  if (d.type === 'AMOUNT') return `${money(d.amount_off)} off`;
  if (d.type === 'PERCENT') return `${d.percent_off} % off`;
  if (d.type === 'FIXED') return `fixed price ${money(d.fixed_amount)}`;
  return String(d.type);
};

export const DiscountFields: FC<{ form: Form; prefix: string }> = ({ form, prefix }) => (
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

export const DateFields: FC<{ form: Form; prefix: string }> = ({ form, prefix }) => (
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
            <Pager
              base="/console/vouchers"
              params={{ campaign_id: campaignId || undefined }}
              page={pageNo}
              hasMore={pageNo * PAGE_SIZE < res.body.total}
            />
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
    return current.ok
      ? fragment(c, <VoucherRow voucher={current.body} error={res.error} />)
      : fragment(c, <ErrorAlert error={res.error} />);
  };
  return new Hono<AppBindings>()
    .get('/', (c) => vouchersPage(fetcher, c))
    .post('/', async (c) => {
      const form = await formOf(c);
      const discount = discountOf(form);
      if ('problem' in discount) return vouchersPage(fetcher, c, form, discount.problem);
      const quantity = form.quantity ? Number(form.quantity) : undefined;
      if (quantity !== undefined && !(Number.isInteger(quantity) && quantity > 0))
        return vouchersPage(fetcher, c, form, 'Redemptions allowed: a whole number above 0, or empty.');
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
