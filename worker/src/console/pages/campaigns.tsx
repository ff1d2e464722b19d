/** @module Campaigns: the list, creation (a campaign and its generated codes), and each campaign's enable / disable switch. */

import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { Empty, ErrorAlert, Layout, Notice, page, when } from '../ui';
import { enc, type Form, formOf, discountOf, day, describeDiscount, DiscountFields, DateFields } from './vouchers';

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
                <th scope="col">Switch</th>
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
                  <td data-testid="campaign-state">{k.active ? 'Active' : 'Inactive'}</td>
                  <td>
                    <form method="post" action={`/console/campaigns/${enc(k.id)}/${k.active ? 'disable' : 'enable'}`} class="inline">
                      <button type="submit" class="secondary" aria-label={`${k.active ? 'Disable' : 'Enable'} ${k.name}`}>
                        {k.active ? 'Disable' : 'Enable'}
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="hint">
          A disabled campaign refuses every one of its codes and tiers at the next validate, redeem or qualification, whatever each one's
          own switch says; enabling it again gives each back its own state.
        </p>
      </section>
      <section>
        <CampaignForm form={form} />
      </section>
    </Layout>,
    problem ? 400 : res.ok ? 200 : 400,
  );
}

export function campaignPages(fetcher: ApiFetch) {
  /** The switch goes through the API (POST /v1/campaigns/{id}/enable|disable), then the list again. */
  const toggle = (active: boolean) => async (c: Context<AppBindings>) => {
    const api = new ConsoleApi(fetcher, c);
    const id = c.req.param('id') as string;
    const res = await api.post<Record<string, never>>(`/v1/campaigns/${enc(id)}/${active ? 'enable' : 'disable'}`);
    if (!res.ok) return campaignsPage(fetcher, c, {}, res.error);
    return campaignsPage(fetcher, c, {}, undefined, `Campaign ${active ? 'enabled' : 'disabled'}.`);
  };
  return new Hono<AppBindings>()
    .get('/', (c) => campaignsPage(fetcher, c))
    .post('/:id/enable', toggle(true))
    .post('/:id/disable', toggle(false))
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
        voucher: {
          type: 'DISCOUNT_VOUCHER',
          discount: discount.discount,
          ...(form.prefix ? { code_config: { prefix: form.prefix, length: 8 } } : {}),
        },
      });
      if (!res.ok) return campaignsPage(fetcher, c, form, res.error);
      return campaignsPage(fetcher, c, {}, undefined, `Campaign ${res.body.name} created.`);
    });
}
