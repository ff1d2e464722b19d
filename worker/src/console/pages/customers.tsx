/** @module Customers: search and list, and one customer's profile, segments (with why), timeline and redemptions. */
import { Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { Customer, CustomerActivity, CustomerActivityList, CustomerList, SegmentExplanation } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { ExplainTree } from '../explain';
import { Empty, ErrorAlert, Facts, fragment, isHtmx, Layout, money, Notice, page, Pager, plural, when } from '../ui';

const SEARCH_BY = [
  ['email', 'E-mail'],
  ['name', 'Name'],
  ['city', 'City'],
] as const;
type SearchBy = (typeof SEARCH_BY)[number][0];

const PAGE_SIZE = 25;
const enc = encodeURIComponent;

interface RedemptionEntry {
  id: string;
  object: 'redemption' | 'redemption_rollback';
  date: string;
  result: 'SUCCESS' | 'FAILURE';
  status: string;
  redemption: string | null;
  failure_code?: string;
  order: { amount?: number; discount_amount?: number } | null;
  voucher: { code: string } | null;
}
interface RedemptionList {
  redemptions: RedemptionEntry[];
  total: number;
}
interface SegmentRef {
  id: string;
  name: string;
}

const customerLabel = (c: Pick<Customer, 'name' | 'email' | 'source_id' | 'id'>) => c.name || c.email || c.source_id || c.id;

const SearchForm: FC<{ by: SearchBy; q: string }> = ({ by, q }) => (
  <form method="get" action="/console/customers" role="search" class="row">
    <div>
      <label for="search-by">Search by</label>
      <select id="search-by" name="by">
        {SEARCH_BY.map(([value, label]) => (
          <option value={value} selected={value === by}>
            {label}
          </option>
        ))}
      </select>
    </div>
    <div>
      <label for="search-q">Value (exact)</label>
      <input id="search-q" name="q" value={q} />
    </div>
    <button type="submit">Search</button>
  </form>
);

const OpenForm: FC = () => (
  <form method="get" action="/console/customers/open" class="row">
    <div>
      <label for="open-ref">Customer id or source id</label>
      <input id="open-ref" name="ref" required />
    </div>
    <button type="submit" class="secondary">
      Open
    </button>
  </form>
);

const CustomerTable: FC<{ customers: Customer[] }> = ({ customers }) => (
  <table data-testid="customer-table">
    <caption class="muted">Newest first</caption>
    <thead>
      <tr>
        <th scope="col">Customer</th>
        <th scope="col">E-mail</th>
        <th scope="col">Source id</th>
        <th scope="col">Orders</th>
        <th scope="col">Created</th>
      </tr>
    </thead>
    <tbody>
      {customers.map((c) => (
        <tr>
          <td>
            <a href={`/console/customers/${enc(c.id)}`}>{customerLabel(c)}</a>
          </td>
          <td>{c.email ?? '—'}</td>
          <td>{c.source_id ?? '—'}</td>
          <td>{c.summary?.orders?.total_count ?? 0}</td>
          <td>{when(c.created_at)}</td>
        </tr>
      ))}
    </tbody>
  </table>
);

const Profile: FC<{ customer: Customer }> = ({ customer: c }) => {
  const address = c.address
    ? [c.address.line_1, c.address.line_2, c.address.postal_code, c.address.city, c.address.state, c.address.country]
        .filter(Boolean)
        .join(', ')
    : '';
  const fields: [string, string][] = [
    ['Id', c.id],
    ['Source id', c.source_id ?? '—'],
    ['Name', c.name ?? '—'],
    ['E-mail', c.email ?? '—'],
    ['Phone', c.phone ?? '—'],
    ['Birthdate', c.birthdate ?? '—'],
    ['Address', address || '—'],
    ['Created', when(c.created_at)],
    ['Updated', when(c.updated_at)],
  ];
  return (
    <section aria-labelledby="profile-h" data-testid="profile">
      <h2 id="profile-h">Profile</h2>
      <Facts items={fields} />
      <h3>Metadata</h3>
      {Object.keys(c.metadata ?? {}).length ? <pre>{JSON.stringify(c.metadata, null, 2)}</pre> : <Empty>No metadata.</Empty>}
    </section>
  );
};

const Summary: FC<{ customer: Customer }> = ({ customer: c }) => {
  const o = c.summary?.orders;
  const r = c.summary?.redemptions;
  const fields: [string, string][] = [
    ['Orders', String(o?.total_count ?? 0)],
    ['Order total', money(o?.total_amount)],
    ['Average order', money(o?.average_amount)],
    ['Last order', `${money(o?.last_order_amount)} on ${when(o?.last_order_date)}`],
    ['Redemptions succeeded', String(r?.total_succeeded ?? 0)],
    ['Redemptions failed', String(r?.total_failed ?? 0)],
    ['Rolled back', String(r?.total_rolled_back ?? 0)],
  ];
  return (
    <section aria-labelledby="summary-h">
      <h2 id="summary-h">Summary</h2>
      <Facts items={fields} />
    </section>
  );
};

const Segments: FC<{ customerId: string; segments: SegmentRef[] | ApiProblem }> = ({ customerId, segments }) => (
  <section aria-labelledby="segments-h" data-testid="customer-segments">
    <h2 id="segments-h">Segments</h2>
    {!Array.isArray(segments) ? (
      <ErrorAlert error={segments} />
    ) : segments.length === 0 ? (
      <Empty>In no segment.</Empty>
    ) : (
      <ul>
        {segments.map((s) => (
          <li data-segment-id={s.id}>
            <a href={`/console/segments/${enc(s.id)}`}>{s.name}</a>{' '}
            <button
              type="button"
              class="secondary"
              hx-get={`/console/customers/${enc(customerId)}/why/${enc(s.id)}`}
              hx-target={`#why-${s.id}`}
              hx-indicator="next .htmx-indicator"
              aria-controls={`why-${s.id}`}
              aria-label={`Why is this customer in ${s.name}?`}
            >
              Why?
            </button>
            <span class="htmx-indicator muted"> Loading…</span>
            <div id={`why-${s.id}`} aria-live="polite"></div>
          </li>
        ))}
      </ul>
    )}
  </section>
);

/** One line of the merged timeline: what happened, and the one detail that says which. */
function describeActivity(entry: CustomerActivity): string {
  const data = (entry.data?.data ?? {}) as Record<string, any>;
  if (entry.type === 'customer.custom_event') return `event ${String(data.event?.type ?? '')}`.trim();
  if (entry.type.startsWith('customer.segment.'))
    return `${entry.type.slice('customer.segment.'.length)} segment ${data.segment?.name ?? data.segment?.id ?? ''}`.trim();
  if (entry.type.startsWith('customer.redemption.') || entry.type.startsWith('customer.validation.')) {
    return `${entry.type.slice('customer.'.length)} ${data.voucher?.code ?? data.redemption?.voucher?.code ?? ''}`.trim();
  }
  if (entry.type.startsWith('customer.order.')) {
    const order = (data.order ?? {}) as { id?: string; source_id?: string | null; status?: string; amount?: number | null };
    const amount = typeof order.amount === 'number' ? ` ${(order.amount / 100).toFixed(2)}` : '';
    return `order ${order.source_id ?? order.id ?? ''} ${order.status ?? ''}${amount}`.replace(/\s+/g, ' ').trim();
  }
  return entry.type.replace(/^customer\./, '');
}

const Timeline: FC<{ activity: CustomerActivity[] | ApiProblem }> = ({ activity }) => (
  <section aria-labelledby="timeline-h" data-testid="timeline">
    <h2 id="timeline-h">Timeline</h2>
    <p class="hint">
      Anonymous events recorded before sign-in, segments entered and left, validations, redemptions and orders, newest first.
    </p>
    {!Array.isArray(activity) ? (
      <ErrorAlert error={activity} />
    ) : activity.length === 0 ? (
      <Empty>Nothing recorded yet.</Empty>
    ) : (
      <ol reversed>
        {activity.map((a) => (
          <li>
            <time datetime={a.created_at}>{when(a.created_at)}</time> · <code>{a.type}</code> {describeActivity(a)}
          </li>
        ))}
      </ol>
    )}
  </section>
);

export const Redemptions: FC<{ customerId: string; redemptions: RedemptionEntry[] | ApiProblem; error?: ApiProblem; done?: string }> = ({
  customerId,
  redemptions,
  error,
  done,
}) => {
  const rolledBack = new Set(
    Array.isArray(redemptions)
      ? redemptions.filter((r) => r.object === 'redemption_rollback' && r.result === 'SUCCESS').map((r) => r.redemption)
      : [],
  );
  return (
    <section id="redemptions" aria-labelledby="redemptions-h" data-testid="redemptions">
      <h2 id="redemptions-h">Redemptions</h2>
      {error && <ErrorAlert error={error} />}
      {done && <Notice>{done}</Notice>}
      {!Array.isArray(redemptions) ? (
        <ErrorAlert error={redemptions} />
      ) : redemptions.length === 0 ? (
        <Empty>No redemptions.</Empty>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Kind</th>
              <th scope="col">Code</th>
              <th scope="col">Result</th>
              <th scope="col">Order</th>
              <th scope="col">Discount</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {redemptions.map((r) => (
              <tr>
                <td>{when(r.date)}</td>
                <td>{r.object === 'redemption_rollback' ? 'rollback' : 'redemption'}</td>
                <td>{r.voucher?.code ?? '—'}</td>
                <td>
                  {r.status || r.result} {r.failure_code ? `(${r.failure_code})` : ''}
                </td>
                <td>{money(r.order?.amount)}</td>
                <td>{money(r.order?.discount_amount)}</td>
                <td>
                  {r.object === 'redemption' && r.result === 'SUCCESS' && !rolledBack.has(r.id) && r.status !== 'ROLLED_BACK' ? (
                    <form
                      method="post"
                      action={`/console/customers/${enc(customerId)}/redemptions/${enc(r.id)}/rollback`}
                      hx-post={`/console/customers/${enc(customerId)}/redemptions/${enc(r.id)}/rollback`}
                      hx-target="#redemptions"
                      hx-swap="outerHTML"
                    >
                      <button type="submit" class="secondary" aria-label={`Roll back redemption ${r.id}`}>
                        Roll back
                      </button>
                    </form>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
};

async function loadRedemptions(api: ConsoleApi, customerId: string): Promise<RedemptionEntry[] | ApiProblem> {
  const res = await api.get<RedemptionList>(`/v1/redemptions?customer=${enc(customerId)}&limit=100`);
  return res.ok ? res.body.redemptions : res.error;
}

export function customerPages(fetcher: ApiFetch) {
  return (
    new Hono<AppBindings>()
      .get('/', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const by = (SEARCH_BY.find(([v]) => v === c.req.query('by'))?.[0] ?? 'email') as SearchBy;
        const q = (c.req.query('q') ?? '').trim();
        const pageNo = Math.max(1, Math.min(99, Number(c.req.query('page')) || 1));
        const segmentId = (c.req.query('segment_id') ?? '').trim();
        const query = new URLSearchParams({ limit: String(PAGE_SIZE), page: String(pageNo) });
        if (q) query.set(by, q);
        if (segmentId) query.set('segment_id', segmentId);
        const res = await api.get<CustomerList>(`/v1/customers?${query}`);
        return page(
          c,
          <Layout title={segmentId ? `Customers in ${segmentId}` : 'Customers'} section="customers">
            <section>
              <SearchForm by={by} q={q} />
              <OpenForm />
            </section>
            <section aria-label="Customer list">
              {!res.ok ? (
                <ErrorAlert error={res.error} />
              ) : res.body.customers.length === 0 ? (
                <Empty>
                  {q
                    ? `No customer has ${by} “${q}”.`
                    : segmentId
                      ? 'Nobody is in this segment.'
                      : 'No customers yet. Import a CSV under Imports and exports, or create them through the API.'}
                </Empty>
              ) : (
                <>
                  <p class="muted">
                    {plural(res.body.total, 'customer')}
                    {q ? ' found' : ''}.
                  </p>
                  <CustomerTable customers={res.body.customers} />
                  <Pager
                    base="/console/customers"
                    params={{ by: q ? by : undefined, q: q || undefined, segment_id: segmentId || undefined }}
                    page={pageNo}
                    hasMore={res.body.has_more}
                  />
                </>
              )}
            </section>
          </Layout>,
          res.ok ? 200 : 400,
        );
      })
      .get('/open', (c) => {
        const ref = (c.req.query('ref') ?? '').trim();
        return c.redirect(ref ? `/console/customers/${enc(ref)}` : '/console/customers', 303);
      })
      .get('/:id', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const res = await api.get<Customer>(`/v1/customers/${enc(c.req.param('id'))}`);
        if (!res.ok) {
          return page(
            c,
            <Layout title="Customer" section="customers">
              <ErrorAlert error={res.error} />
              <a href="/console/customers">All customers</a>
            </Layout>,
            res.status === 404 ? 404 : 400,
          );
        }
        const customer = res.body;
        const [segments, activity, redemptions] = await Promise.all([
          api.get<{ data: SegmentRef[] }>(`/v1/customers/${enc(customer.id)}/segments`),
          api.get<CustomerActivityList>(`/v1/customers/${enc(customer.id)}/activity?limit=100`),
          loadRedemptions(api, customer.id),
        ]);
        return page(
          c,
          <Layout title={`Customer ${customerLabel(customer)}`} section="customers">
            <Profile customer={customer} />
            <Summary customer={customer} />
            <Segments customerId={customer.id} segments={segments.ok ? segments.body.data : segments.error} />
            <Timeline activity={activity.ok ? activity.body.data : activity.error} />
            <Redemptions customerId={customer.id} redemptions={redemptions} />
          </Layout>,
        );
      })
      // "Why?": the segment's explanation for this customer (POST /v1/segments/{id}/explain), as a fragment.
      .get('/:id/why/:segmentId', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const res = await api.post<SegmentExplanation>(`/v1/segments/${enc(c.req.param('segmentId'))}/explain`, {
          customer: c.req.param('id'),
        });
        const body = !res.ok ? (
          <ErrorAlert error={res.error} testId="why-error" />
        ) : (
          <div data-testid="why">
            <p>
              {res.body.member ? 'Member' : 'Not a member'} of <strong>{res.body.segment.name}</strong> ({res.body.segment.type};{' '}
              {res.body.basis === 'stored' ? 'from the stored member list' : 'judged by the filter now'}).
            </p>
            {res.body.explanation ? (
              <ExplainTree node={res.body.explanation} label={`Why, for segment ${res.body.segment.name}`} />
            ) : (
              <Empty>A static segment has no filter: its members were listed when it was created.</Empty>
            )}
          </div>
        );
        if (isHtmx(c)) return fragment(c, body);
        return page(
          c,
          <Layout title="Why" section="customers">
            {body}
            <a href={`/console/customers/${enc(c.req.param('id'))}`}>Back to the customer</a>
          </Layout>,
        );
      })
      .post('/:id/redemptions/:redemptionId/rollback', async (c) => {
        const api = new ConsoleApi(fetcher, c);
        const customerId = c.req.param('id');
        const res = await api.post(`/v1/redemptions/${enc(c.req.param('redemptionId'))}/rollback`, {
          reason: 'Rolled back in the operator console',
        });
        if (!isHtmx(c)) return c.redirect(`/console/customers/${enc(customerId)}`, 303);
        return fragment(
          c,
          <Redemptions
            customerId={customerId}
            redemptions={await loadRedemptions(api, customerId)}
            error={res.ok ? undefined : res.error}
            done={res.ok ? 'Rolled back.' : undefined}
          />,
        );
      })
  );
}
