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
import { campaignPages } from './pages/campaigns';
import { promotionPages } from './pages/promotions';
import { simulatorPages } from './pages/simulator';
import { voucherPages } from './pages/vouchers';
import { readForm } from './form';
import {
  CONSOLE_PATH,
  callerIp,
  consoleGuard,
  endSession,
  hasSession,
  MIN_APP_TOKEN_LENGTH,
  SIGN_IN_RETRY_AFTER_SECONDS,
  signInMatches,
  startSession,
  takeSignInAttempt,
  weakAppTokenProblem,
} from './session';
import { ErrorAlert, Layout, page } from './ui';

/** The console's first page: what /console and /console/ (the URL `npm start` prints) open. */
const HOME = '/console/segments';

/**
 * Where sign-in sends a person back to: a console path only, never another site. The console's
 * root, with or without its slash, is its first page (a page needing sign-in sends its own path).
 */
function safeNext(value: unknown): string {
  if (typeof value !== 'string' || !/^\/console\/[A-Za-z0-9/_-]*$/.test(value) || value === '/console/') return HOME;
  return value;
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

/** What the console shows, on every path, while APP_TOKEN is too weak to be typed into a public form. */
const WeakKeyPage = ({ problem }: { problem: string }) => (
  <Layout title="Console turned off" signedIn={false}>
    <ErrorAlert
      testId="weak-app-token"
      error={`The console is turned off on this server: ${problem}. Its sign-in form would let anyone who can reach it guess the server key, which opens the whole API.`}
    />
    <p>
      Set a random secret key of at least {MIN_APP_TOKEN_LENGTH} characters, for example{' '}
      <code>openssl rand -base64 32 | npx wrangler secret put APP_TOKEN</code>, give the shop's backend the new value, and reload this page.
      The demo key is accepted only on 127.0.0.1 or localhost, for the local demo.
    </p>
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
      // Every page, sign-in included, is refused while the server key is guessable (not the assets
      // above: the refusal page needs its stylesheet).
      .use('*', async (c, next) => {
        const problem = weakAppTokenProblem(c.env, c.req.url);
        if (problem) return page(c, <WeakKeyPage problem={problem} />, 403);
        return next();
      })
      // `/console` and `/console/` (the URL `npm start` and the README print) are two paths to Hono,
      // and a sub-app's routes can name only the first: both open the first page.
      .use('*', async (c, next) => {
        if (c.req.method === 'GET' && c.req.path === `${CONSOLE_PATH}/`) return c.redirect(HOME, 303);
        return next();
      })
      .get('/', (c) => c.redirect(HOME, 303))
      .get('/sign-in', async (c) => {
        if (await hasSession(c)) return c.redirect(safeNext(c.req.query('next')), 303);
        return page(c, <SignInPage next={safeNext(c.req.query('next'))} />);
      })
      .post('/sign-in', async (c) => {
        const form = await readForm(c);
        const appId = typeof form.app_id === 'string' ? form.app_id : '';
        const secretKey = typeof form.secret_key === 'string' ? form.secret_key : '';
        const next = safeNext(form.next);
        // Neither the typed id nor the key is logged: a key typed into the id field is still a key.
        const log = (event: string) => console.warn(JSON.stringify({ event, ip: callerIp(c), request_id: c.get('requestId') }));
        if (!(await takeSignInAttempt(c))) {
          log('console_sign_in_rate_limited');
          c.header('Retry-After', String(SIGN_IN_RETRY_AFTER_SECONDS));
          return page(
            c,
            <SignInPage
              next={next}
              appId={appId}
              error={`Too many sign-in attempts from your address. Wait ${SIGN_IN_RETRY_AFTER_SECONDS} seconds, then try again.`}
            />,
            429,
          );
        }
        if (!(await signInMatches(c.env, appId, secretKey))) {
          log('console_sign_in_failed');
          return page(c, <SignInPage next={next} appId={appId} error="The Application ID or Secret Key is wrong." />, 401);
        }
        await startSession(c);
        return c.redirect(next, 303);
      })
      .post('/sign-out', async (c) => {
        await endSession(c);
        return c.redirect('/console/sign-in', 303);
      })
      .use('*', requireSession)
      .route('/segments', segmentPages(fetcher))
      .route('/customers', customerPages(fetcher))
      .route('/vouchers', voucherPages(fetcher))
      .route('/campaigns', campaignPages(fetcher))
      .route('/promotions', promotionPages(fetcher))
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
