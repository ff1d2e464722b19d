import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AppBindings } from './env';
import { apiError, ApiError, internalError, requestTooLarge } from './errors';
import { requestId as newRequestId } from './lib/ids';
import { checkQueryString } from './lib/qs';
import { clientCors, clientKeyAuth, requireAllowedOrigin, segmentAuth, serverAuth } from './middleware/auth';
import { d1Session } from './middleware/d1-session';
import { observeStorage } from './middleware/observe-storage';
import { apiLimitHeaders, rateLimitClient } from './middleware/rate-limit';
import { asyncActionRoutes, customerRoutes } from './routes/customers';
import { orderRoutes } from './routes/orders';
import { clientQualificationRoutes, clientValidateRoutes, clientValidationsRoutes } from './routes/client';
import { qualificationRoutes } from './routes/qualifications';
import { consoleRoutes } from './console/routes';
import { demoRoutes } from './routes/demo';
import { clientEventRoutes, eventRoutes } from './routes/events';
import { exportDownloadRoutes, exportRoutes } from './routes/exports';
import { CUSTOMER_IMPORT_PATH, customerImportRoutes } from './routes/imports';
import { openApiRoutes } from './routes/openapi';
import { clientRedemptionRoutes, redemptionRoutes, stackableValidationRoutes, voucherRedemptionRoutes } from './routes/redemptions';
import { segmentRoutes } from './routes/segments';
import { segmentioRoutes } from './routes/cdp-segment';
import { rootRoutes, sdkRoutes } from './routes/static';
import { validationRuleAssignmentRoutes, validationRuleRoutes } from './routes/validation-rules';
import { voucherRoutes } from './routes/vouchers';
import { campaignRoutes } from './routes/campaigns';
import { promotionRoutes } from './routes/promotions';
import { clientPromotionValidationRoutes, promotionCheckoutRoutes } from './routes/promotion-checkout';
import { publicationRoutes } from './routes/publications';
import { webhookRoutes } from './routes/webhooks';
import { wakeWebhookDispatcher } from './middleware/wake-webhook-dispatcher';
import { identityHint } from './middleware/identity-hint';
import { allowedMethods, BODY_LIMITS, MAX_BODY_BYTES } from './catalogue';

export const app = new Hono<AppBindings>();

// Every response, errors included, carries X-Request-Id; error bodies repeat it as request_id.
app.use(requestId({ generator: newRequestId, headerName: 'X-Request-Id' }));

// Instruments first (they wrap the bindings), then the request's D1 session on the wrapped binding.
app.use(observeStorage);
app.use(d1Session);

const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw requestTooLarge(maxSize);
    },
  });
// 1 MiB everywhere, except the paths the route catalogue gives a limit of their own (a CSV import
// of 50,000 rows is several MiB; an import that streams its body counts the bytes itself, where
// hono's limit would buffer a body sent without Content-Length whole). A path not listed never
// gets more than MAX_BODY_BYTES.
const defaultBodyLimit = limitBody(MAX_BODY_BYTES);
const largeBodyLimits = new Map<string, ReturnType<typeof limitBody>>(
  [...BODY_LIMITS].map(([path, limit]) => [path, limit === 'streamed' ? (_c, next) => next() : limitBody(limit)]),
);
app.use((c, next) => (largeBodyLimits.get(c.req.path) ?? defaultBodyLimit)(c, next));

// Every route's query string: bad percent-encoded UTF-8 and prototype keys are a 400 naming the parameter.
app.use((c, next) => {
  const at = c.req.url.indexOf('?');
  if (at !== -1) checkQueryString(c.req.url.slice(at));
  return next();
});

app.route('/', rootRoutes);
app.get('/health', (c) => c.json({ ok: true }));
app.route('/openapi.json', openApiRoutes);
app.route('/sdk', sdkRoutes);
app.route(
  '/demo',
  demoRoutes((request, env, ctx) => app.fetch(request, env, ctx)),
);
// The operator console: pages that call this same API in-process with the server key.
app.route(
  '/console',
  consoleRoutes((request, env, ctx) => app.fetch(request, env, ctx)),
);

// The export download carries its own credential (a signed, expiring token), so it comes before
// the server-key check.
app.route('/v1/exports', exportDownloadRoutes);

app.use('/v1/*', apiLimitHeaders, serverAuth);
app.use('/v1/*', wakeWebhookDispatcher);
app.route(CUSTOMER_IMPORT_PATH, customerImportRoutes);
app.route('/v1/customers', customerRoutes);
app.route('/v1/orders', orderRoutes);
app.route('/v1/async-actions', asyncActionRoutes);
app.route('/v1/segments', segmentRoutes);
app.route('/v1/events', eventRoutes);
app.route('/v1/vouchers', voucherRedemptionRoutes);
app.route('/v1/vouchers', voucherRoutes);
app.route('/v1/validation-rules', validationRuleRoutes);
app.route('/v1/validation-rules-assignments', validationRuleAssignmentRoutes);
app.route('/v1/validations', stackableValidationRoutes);
app.route('/v1/qualifications', qualificationRoutes);
app.route('/v1/redemptions', redemptionRoutes);
app.route('/v1/exports', exportRoutes);
app.route('/v1/campaigns', campaignRoutes);
app.route('/v1/promotions', promotionCheckoutRoutes);
app.route('/v1/promotions', promotionRoutes);
app.route('/v1/publications', publicationRoutes);
app.route('/v1/webhooks', webhookRoutes);

// Segment's (and PostHog's) Voucherify (Actions) destination: the server key pair in its own headers.
app.use('/segmentio/*', segmentAuth, wakeWebhookDispatcher);
app.route('/segmentio', segmentioRoutes);

app.use('/client/v1/*', requireAllowedOrigin, clientCors, clientKeyAuth, rateLimitClient, wakeWebhookDispatcher, identityHint);
app.route('/client/v1/events', clientEventRoutes);
app.route('/client/v1/validate', clientValidateRoutes);
app.route('/client/v1/validations', clientValidationsRoutes);
app.route('/client/v1/qualifications', clientQualificationRoutes);
app.route('/client/v1/promotions/validation', clientPromotionValidationRoutes);
app.route('/client/v1/redemptions', clientRedemptionRoutes);

// A path the catalogue serves, asked with another method: 405 naming the methods it serves, in the
// details (Voucherify's words, errors.mdx:L12-L14) and in `Allow` (RFC 9110 15.5.6). Any other
// path: 404. HEAD is served wherever GET is (Hono answers it with the GET route).
app.notFound((c) => {
  const allowed = allowedMethods(c.req.path);
  const method = c.req.method.toUpperCase();
  if (allowed.length > 0 && !allowed.includes(method) && !(method === 'HEAD' && allowed.includes('GET'))) {
    const hint = allowed.length === 1 ? allowed[0] : `${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}`;
    const error = apiError('method_not_allowed', `${method} is not supported by this endpoint. Did you mean ${hint}?`);
    return c.json(error.toBody(c.get('requestId')), 405, { Allow: allowed.join(', ') });
  }
  throw apiError('not_found', 'No such route');
});

app.onError((error, c) => {
  const apiError = error instanceof ApiError ? error : internalError();
  if (!(error instanceof ApiError)) {
    // Logged with the request id for the operator; the client only ever sees the generic body.
    console.error(JSON.stringify({ request_id: c.get('requestId'), error: String(error), stack: (error as Error).stack }));
  }
  return c.json(apiError.toBody(c.get('requestId')), apiError.status);
});
