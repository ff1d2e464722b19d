import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setCookie, setSignedCookie } from 'hono/cookie';
import { BOOKMARK_COOKIE, BOOKMARK_COOKIE_SECONDS, BOOKMARK_HEADER } from '../../../shared/consistency';
import { z } from 'zod';
import { signIdentity } from '../../../shared/identity';
import type { AppBindings, Env } from '../env';
import { apiError, unauthorized } from '../errors';
import { parseJsonBody } from '../lib/parse-input';

type ApiFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

const email = z
  .string()
  .max(254)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

const signInSchema = z.object({ email, name: z.string().max(255).optional() });

const checkoutSchema = z.object({
  code: z.string().min(1).max(100),
  amount: z.number().int().min(0),
  items: z
    .array(z.object({ sku_id: z.string().max(255), quantity: z.number().int().min(1), price: z.number().int().min(0) }))
    .max(50)
    .optional(),
  tracking_id: z.string().max(255).optional(),
});

type ActivityEntry = { id: string; type: string; created_at: string; data?: { data?: Record<string, any> } };

/**
 * The page's timeline line for one activity (GET /v1/customers/{id}/activity, OA CustomerActivity):
 * a custom event under its own name with its metadata, the other kinds with the one detail shown.
 */
function timelineEntry(entry: ActivityEntry) {
  const data = entry.data?.data ?? {};
  const line = (type: string, detail: Record<string, unknown>) => ({ id: entry.id, type, data: detail, created_at: entry.created_at });
  if (entry.type === 'customer.custom_event') return line(String(data.event?.type ?? entry.type), data.event?.metadata ?? {});
  if (entry.type.startsWith('customer.segment.')) return line(entry.type, { segment: data.segment });
  if (entry.type.startsWith('customer.redemption.')) return line(entry.type, { code: data.voucher?.code });
  return line(entry.type, {});
}

const SESSION_COOKIE = 'vs_demo_session';

/**
 * What the worker (once per isolate) and scripts/start.js say when DEMO_PUBLIC_SIGNIN=on: the demo
 * sign-in asks for no password and signs the identity with the real IDENTITY_SECRET.
 */
export const PUBLIC_SIGNIN_WARNING =
  'DEMO_PUBLIC_SIGNIN=on: the demo sign-in is open on every host, so ANYONE CAN SIGN IN AS ANY CUSTOMER (no password) and get a valid identity signature. Never on a shop: unset DEMO_PUBLIC_SIGNIN (or DEMO).';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isLoopback = (url: string): boolean => {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
};

let warned = false;

/**
 * The demo's sign-in signs any e-mail without a password, with the same IDENTITY_SECRET every
 * client route trusts: on a real deployment left with DEMO=on it would switch identity
 * verification off for everyone. So it answers only a loopback host (and a loopback Origin, when
 * the browser sends one), unless the operator says DEMO_PUBLIC_SIGNIN=on, which the worker then
 * repeats loudly in its log.
 */
const loopbackOnly: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.env.DEMO_PUBLIC_SIGNIN === 'on') {
    if (!warned) {
      warned = true;
      console.warn(`[vouchsafe] ${PUBLIC_SIGNIN_WARNING}`);
    }
  } else {
    const origin = c.req.header('origin');
    if (!isLoopback(c.req.url) || (origin !== undefined && !isLoopback(origin))) {
      throw apiError(
        'forbidden',
        'The demo sign-in answers 127.0.0.1, localhost and [::1] only: it signs anyone in without a password. DEMO_PUBLIC_SIGNIN=on opens it on other hosts (never on a shop).',
      );
    }
  }
  await next();
};

/** The demo's session key, apart from the identity signatures made with the same secret. */
const sessionKey = (env: Env): string => {
  if (!env.IDENTITY_SECRET) throw apiError('not_found', 'The demo needs IDENTITY_SECRET (.dev.vars.example).');
  return `demo-session:${env.IDENTITY_SECRET}`;
};

/**
 * The demo's backend routes change state with the server key: only the demo page itself may call
 * them. JSON only (a cross-site form cannot send it without a preflight) and same origin, by
 * Origin or, failing that, by Sec-Fetch-Site (neither can be set by a page's script).
 */
const sameOriginJson: MiddlewareHandler<AppBindings> = async (c, next) => {
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (c.req.method === 'POST' && type !== 'application/json') {
    throw apiError('unsupported_media_type', 'Content-Type must be application/json.');
  }
  const origin = c.req.header('origin');
  const sameOrigin = origin ? origin === new URL(c.req.url).origin : c.req.header('sec-fetch-site') === 'same-origin';
  if (!sameOrigin) throw apiError('forbidden', 'The demo backend answers its own page only.');
  await next();
};

/** The signed-in shopper of this browser: a signed, HttpOnly session cookie. */
async function sessionOf(c: Context<AppBindings>): Promise<{ email: string; name?: string }> {
  const value = await getSignedCookie(c, sessionKey(c.env), SESSION_COOKIE);
  if (!value) throw unauthorized();
  return JSON.parse(value) as { email: string; name?: string };
}

/**
 * The demo storefront (npm start): its page and the backend routes a real shop would run on its
 * own server. They hold the server key and IDENTITY_SECRET and talk to the public API exactly like
 * such a backend, so the demo shows the real flow: sign-in gives the page the signature of the
 * shopper's identity; checkout redeems for the signed-in shopper only. Off unless DEMO=on
 * (.dev.vars.example sets it): the demo's sign-in asks for no password.
 */
export function demoRoutes(api: ApiFetch) {
  return (
    new Hono<AppBindings>()
      .use('*', async (c, next) => {
        if (c.env.DEMO !== 'on') throw apiError('not_found', 'The demo is off (DEMO=on enables it).');
        await next();
      })
      // The page reads the client key from here, so editing .dev.vars needs no change to the page.
      .get('/api/config', (c) => c.json({ clientApplicationId: c.env.CLIENT_APP_ID, clientToken: c.env.CLIENT_TOKEN }))
      .use('/api/session', loopbackOnly, sameOriginJson)
      .use('/api/checkout', loopbackOnly, sameOriginJson)
      // Sign-in: what a shop's login does, plus the identity signature for Vouchsafe.setIdentity.
      .post('/api/session', async (c) => {
        const { email: address, name } = await parseJsonBody(c, signInSchema);
        const secure = new URL(c.req.url).protocol === 'https:';
        await setSignedCookie(c, SESSION_COOKIE, JSON.stringify({ email: address, name }), sessionKey(c.env), {
          path: '/demo/',
          httpOnly: true,
          sameSite: 'Strict',
          secure,
        });
        // The signature of the e-mail's identity hash, for Vouchsafe.setIdentity (a day, as a shop would).
        return c.json({ email: address, name: name ?? null, signature: await signIdentity(c.env.IDENTITY_SECRET as string, address) });
      })
      .delete('/api/session', (c) => {
        deleteCookie(c, SESSION_COOKIE, { path: '/demo/' });
        return c.body(null, 204);
      })
      .post('/api/checkout', async (c) => {
        const shopper = await sessionOf(c);
        const input = await parseJsonBody(c, checkoutSchema);
        // As a shop's backend does: each call passes on the bookmark of the writes before it, so the
        // reads after the redemption see it whichever replica serves them.
        let bookmark: string | null = null;
        const call = async (method: string, path: string, body?: unknown) => {
          const res = await api(
            new Request(new URL(path, c.req.url), {
              method,
              headers: {
                'X-App-Id': c.env.APP_ID,
                'X-App-Token': c.env.APP_TOKEN,
                'Content-Type': 'application/json',
                ...(bookmark ? { [BOOKMARK_HEADER]: bookmark } : {}),
              },
              body: body === undefined ? undefined : JSON.stringify(body),
            }),
            c.env,
            c.executionCtx,
          );
          bookmark = res.headers.get(BOOKMARK_HEADER) ?? bookmark;
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };
        const redemption = await call('POST', `/v1/vouchers/${encodeURIComponent(input.code)}/redemption`, {
          customer: { source_id: shopper.email, email: shopper.email, ...(shopper.name ? { name: shopper.name } : {}) },
          order: { amount: input.amount, items: input.items },
          tracking_id: input.tracking_id,
        });
        const customer = await call('GET', `/v1/customers/${encodeURIComponent(shopper.email)}`);
        const id = String(customer.body.id ?? shopper.email);
        const [segments, activity] = await Promise.all([
          call('GET', `/v1/customers/${encodeURIComponent(id)}/segments`),
          call('GET', `/v1/customers/${encodeURIComponent(id)}/activity?limit=50`),
        ]);
        // The page's next validate reads at least this state: the bookmark goes to the browser SDK
        // in the tracking cookie's companion (readable by the page's script, like the tracking id).
        if (bookmark) {
          setCookie(c, BOOKMARK_COOKIE, bookmark, {
            path: '/',
            sameSite: 'Lax',
            maxAge: BOOKMARK_COOKIE_SECONDS,
            secure: new URL(c.req.url).protocol === 'https:',
          });
        }
        // All of it is the signed-in shopper's own data.
        return c.json({
          redemption: redemption.body,
          redeemed: redemption.status === 200,
          customer: customer.status === 200 ? customer.body : null,
          segments: segments.status === 200 ? segments.body.data : [],
          activity: activity.status === 200 ? (activity.body.data as ActivityEntry[]).map(timelineEntry) : [],
        });
      })
      .get('/*', async (c) => {
        const url = new URL(c.req.url);
        // /demo and /demo/ are the page itself.
        if (url.pathname === '/demo') return c.redirect('/demo/', 301);
        const asset = await c.env.ASSETS.fetch(c.req.raw);
        // 304 answers a revalidation (If-None-Match): the browser's copy is still good.
        if (!asset.ok && asset.status !== 304) throw apiError('not_found', 'No such file');
        const res = new Response(asset.body, asset);
        res.headers.set('Cache-Control', 'no-cache');
        return res;
      })
  );
}
