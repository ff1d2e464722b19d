/**
 * @module The validate simulator (POST /v1/validations?explain=true: the verdict and, when the API
 * gives it, why).
 */

import { type Context, Hono } from 'hono';
import type { FC } from 'hono/jsx';
import type { ExplainNode } from '../../../../shared/explain';
import type { Voucher } from '../../../../shared/types';
import type { AppBindings } from '../../env';
import { type ApiFetch, type ApiProblem, ConsoleApi } from '../api';
import { ExplainTree, findExplanations } from '../explain';
import { Empty, ErrorAlert, Layout, money, page, toMinor } from '../ui';
import { type Form, formOf } from './vouchers';

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
