/**
 * @module The operator console at /console: server-rendered pages (Hono JSX) that htmx makes live.
 * Every page reads and writes through the public API (api.ts); this file holds the frame: static
 * files, sign-in and sign-out, the session and same-origin checks in front of everything else.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { apiError } from '../errors';
import type { ApiFetch } from './api';
import { customerPages } from './pages/customers';
import { importPages } from './pages/imports';
import { segmentPages } from './pages/segments';
import { campaignPages, simulatorPages, voucherPages } from './pages/vouchers';
import { readForm } from './form';
import { consoleGuard, endSession, hasSession, signInMatches, startSession } from './session';
import { ErrorAlert, Layout, page } from './ui';

/** The upload of a customer CSV (pages/imports.tsx): app.ts lets its body stream through unbuffered. */
export const CONSOLE_IMPORT_PATH = '/console/imports/customers';

/** Where sign-in sends a person back to: a console path only, never another site. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/console\/[A-Za-z0-9/_-]*$/.test(value) ? value : '/console/segments';
}

const SignInPage = ({ error, next, appId }: { error?: string; next: string; appId?: string }) => (
  <Layout title="Sign in" signedIn={false}>
    <section>
      <p>Sign in with the server key pair of this Vouchsafe (the X-App-Id / X-App-Token headers of the API).</p>
      {error && <ErrorAlert error={error} testId="sign-in-error" />}
      <form method="post" action="/console/sign-in">
        <input type="hidden" name="next" value={next} />
        <label for="app-id">Application ID</label>
        <input id="app-id" name="app_id" autocomplete="username" required value={appId ?? ''} />
        <label for="secret-key">Secret Key</label>
        <input id="secret-key" name="secret_key" type="password" autocomplete="current-password" required />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </section>
  </Layout>
);

const forbiddenPage = (c: Parameters<MiddlewareHandler<AppBindings>>[0]) =>
  page(
    c,
    <Layout title="Refused" signedIn={false}>
      <ErrorAlert error="This request did not come from a console page (its Origin is another site), so it was refused." />
    </Layout>,
    403,
  );

/** Pages need a session: a page load goes to sign-in, an htmx request is told to go there. */
const requireSession: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (await hasSession(c)) return next();
  const signIn = `/console/sign-in?next=${encodeURIComponent(new URL(c.req.url).pathname)}`;
  if (c.req.header('hx-request') === 'true') {
    c.header('HX-Redirect', signIn);
    return c.body(null, 401);
  }
  if (c.req.method === 'GET') return c.redirect(signIn, 303);
  return page(
    c,
    <Layout title="Signed out" signedIn={false}>
      <ErrorAlert error="Your session has ended; sign in again." />
      <a href={signIn}>Sign in</a>
    </Layout>,
    401,
  );
};

export function consoleRoutes(fetcher: ApiFetch) {
  return (
    new Hono<AppBindings>()
      .use('*', consoleGuard(forbiddenPage))
      // The stylesheet and htmx (client/rollup.config.js): public, no session needed.
      .get('/assets/*', async (c) => {
        const asset = await c.env.ASSETS.fetch(c.req.raw);
        if (!asset.ok && asset.status !== 304) throw apiError('not_found', 'No such file');
        const res = new Response(asset.body, asset);
        // htmx's name carries its version; the stylesheet is revalidated (ETag) on every load.
        const versioned = /\/htmx-[0-9.]+\.min\.js$/.test(new URL(c.req.url).pathname);
        res.headers.set('Cache-Control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache');
        return res;
      })
      .get('/', (c) => c.redirect('/console/segments', 303))
      .get('/sign-in', async (c) => {
        if (await hasSession(c)) return c.redirect(safeNext(c.req.query('next')), 303);
        return page(c, <SignInPage next={safeNext(c.req.query('next'))} />);
      })
      .post('/sign-in', async (c) => {
        const form = await readForm(c);
        const appId = typeof form.app_id === 'string' ? form.app_id : '';
        const secretKey = typeof form.secret_key === 'string' ? form.secret_key : '';
        const next = safeNext(form.next);
        if (!(await signInMatches(c.env, appId, secretKey))) {
          return page(c, <SignInPage next={next} appId={appId} error="The Application ID or Secret Key is wrong." />, 401);
        }
        await startSession(c);
        return c.redirect(next, 303);
      })
      .post('/sign-out', (c) => {
        endSession(c);
        return c.redirect('/console/sign-in', 303);
      })
      .use('*', requireSession)
      .route('/segments', segmentPages(fetcher))
      .route('/customers', customerPages(fetcher))
      .route('/vouchers', voucherPages(fetcher))
      .route('/campaigns', campaignPages(fetcher))
      .route('/simulator', simulatorPages(fetcher))
      .route('/imports', importPages(fetcher))
      .all('*', (c) =>
        page(
          c,
          <Layout title="Not found">
            <ErrorAlert error="There is no such console page." />
          </Layout>,
          404,
        ),
      )
  );
}
