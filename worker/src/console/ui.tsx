/** @module The console's page frame and the small pieces every page uses (alerts, empty states, pagers). */
import type { Context } from 'hono';
import type { Child, FC } from 'hono/jsx';
import htmxPackage from 'htmx.org/package.json';
import type { AppBindings } from '../env';
import { type ApiProblem, describeProblem } from './api';

/** Where the build puts htmx (client/rollup.config.js): its version is in the name, so it is cached for a year. */
export const HTMX_PATH = `/console/assets/htmx-${htmxPackage.version}.min.js`;
export const STYLESHEET_PATH = '/console/assets/console.css';

// htmx without eval (no hx-on, no trigger filters: the CSP forbids them anyway) and without the
// inline style it would inject for indicators (console.css has the rule).
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, historyCacheSize: 0 });

export const NAV = [
  ['segments', 'Segments', '/console/segments'],
  ['customers', 'Customers', '/console/customers'],
  ['vouchers', 'Vouchers', '/console/vouchers'],
  ['campaigns', 'Campaigns', '/console/campaigns'],
  ['promotions', 'Promotions', '/console/promotions'],
  ['simulator', 'Validate simulator', '/console/simulator'],
  ['imports', 'Imports and exports', '/console/imports'],
] as const;
export type Section = (typeof NAV)[number][0];

export const Layout: FC<{ title: string; section?: Section; signedIn?: boolean; children?: Child }> = ({
  title,
  section,
  signedIn = true,
  children,
}) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <title>{`${title} · Vouchsafe console`}</title>
      <link rel="stylesheet" href={STYLESHEET_PATH} />
      <script src={HTMX_PATH} defer></script>
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong>Vouchsafe console</strong>
        {signedIn && (
          <nav aria-label="Console">
            <ul>
              {NAV.map(([key, label, href]) => (
                <li>
                  <a href={href} aria-current={key === section ? 'page' : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {signedIn && (
          <form method="post" action="/console/sign-out">
            <button type="submit" class="secondary">
              Sign out
            </button>
          </form>
        )}
      </header>
      <main id="main">
        <h1>{title}</h1>
        {children}
      </main>
    </body>
  </html>
);

/** An API refusal, as the page shows it: role=alert, so a screen reader announces it. */
export const ErrorAlert: FC<{ error: ApiProblem | string; testId?: string }> = ({ error, testId = 'error' }) => {
  const { text, reference } = typeof error === 'string' ? { text: error, reference: '' } : describeProblem(error);
  return (
    <div class="alert" role="alert" data-testid={testId}>
      {text}
      {reference && <span class="muted"> ({reference})</span>}
    </div>
  );
};

export const Notice: FC<{ children?: Child }> = ({ children }) => (
  <div class="notice" role="status">
    {children}
  </div>
);

export const Empty: FC<{ children?: Child }> = ({ children }) => (
  <p class="muted" data-testid="empty">
    {children}
  </p>
);

/** Labelled values as a description list, the one way the pages show facts. */
export const Facts: FC<{ items: readonly (readonly [string, string | number])[] }> = ({ items }) => (
  <dl class="grid">
    {items.map(([label, value]) => (
      <div>
        <dt>{label}</dt>
        <dd>{value}</dd>
      </div>
    ))}
  </dl>
);

/** Previous / next links that keep the other query parameters. */
export const Pager: FC<{ base: string; params: Record<string, string | undefined>; page: number; hasMore: boolean }> = ({
  base,
  params,
  page,
  hasMore,
}) => {
  const href = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
    q.set('page', String(p));
    return `${base}?${q}`;
  };
  if (page <= 1 && !hasMore) return null;
  return (
    <nav aria-label="Pages">
      {page > 1 && <a href={href(page - 1)}>Previous page</a>} <span class="muted">Page {page}</span>{' '}
      {hasMore && <a href={href(page + 1)}>Next page</a>}
    </nav>
  );
};

/** A count with its noun in the right number: "1 customer", "0 customers", "2 customers". */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Amounts on the wire are in the currency's smallest unit (cents). */
export const money = (minor: unknown): string => (typeof minor === 'number' ? (minor / 100).toFixed(2) : '—');

/** A form's decimal amount ("25", "25.50") as minor units; null when it is not one. */
export function toMinor(text: string): number | null {
  const trimmed = text.trim();
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(trimmed)) return null;
  return Math.round(Number(trimmed) * 100);
}

export const when = (iso: unknown): string => (typeof iso === 'string' && iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '—');

/** Renders a full page: doctype, the frame, a status. */
export function page(c: Context<AppBindings>, node: Child, status: 200 | 400 | 401 | 403 | 404 | 409 | 422 | 429 | 500 = 200): Response {
  return c.html(`<!doctype html>${String(node)}`, status);
}

/** Renders a fragment for htmx (no frame). */
export function fragment(c: Context<AppBindings>, node: Child, status: 200 | 400 | 404 | 422 = 200): Response {
  return c.html(String(node ?? ''), status);
}

/** True for requests htmx sends (it marks them), which get fragments rather than pages. */
export const isHtmx = (c: Context): boolean => c.req.header('hx-request') === 'true';
