import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AppBindings } from './env';
import { ApiError, internalError } from './errors';
import { requestId as newRequestId } from './lib/ids';
import { clientAuth, serverAuth } from './middleware/auth';
import { countOps } from './middleware/op-count';
import { asyncActionRoutes, customerRoutes } from './routes/customers';
import { clientValidateRoutes, clientValidationsRoutes } from './routes/client';
import { demoRoutes } from './routes/demo';
import { eventRoutes } from './routes/events';
import { redemptionRoutes, stackableValidationRoutes } from './routes/redemptions';
import { segmentRoutes } from './routes/segments';
import { sdkRoutes } from './routes/static';
import { validationRuleRoutes } from './routes/validation-rules';
import { voucherRoutes } from './routes/vouchers';

export const MAX_BODY_BYTES = 1024 * 1024;

export const app = new Hono<AppBindings>();

// Every response, errors included, carries X-Request-Id; error bodies repeat it as request_id.
app.use(requestId({ generator: newRequestId, headerName: 'X-Request-Id' }));

app.use(countOps);

app.use(
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new ApiError(413, 'request_too_large', 'Request too large', `The request body must be at most ${MAX_BODY_BYTES} bytes.`);
    },
  }),
);

app.get('/health', (c) => c.json({ ok: true }));
app.route('/sdk', sdkRoutes);
app.route('/demo', demoRoutes((request, env, ctx) => app.fetch(request, env, ctx)));

app.use('/v1/*', serverAuth);
app.route('/v1/customers', customerRoutes);
app.route('/v1/async-actions', asyncActionRoutes);
app.route('/v1/segments', segmentRoutes);
app.route('/v1/events', eventRoutes('server'));
app.route('/v1/vouchers', voucherRoutes);
app.route('/v1/validation-rules', validationRuleRoutes);
app.route('/v1/validations', stackableValidationRoutes);
app.route('/v1/redemptions', redemptionRoutes);

app.use('/client/v1/*', clientAuth);
app.route('/client/v1/events', eventRoutes('client'));
app.route('/client/v1/validate', clientValidateRoutes);
app.route('/client/v1/validations', clientValidationsRoutes);

app.notFound(() => {
  throw new ApiError(404, 'not_found', 'Resource not found', 'No such route');
});

app.onError((error, c) => {
  const apiError = error instanceof ApiError ? error : internalError();
  if (!(error instanceof ApiError)) {
    // Logged with the request id for the operator; the client only ever sees the generic body.
    console.error(JSON.stringify({ request_id: c.get('requestId'), error: String(error), stack: (error as Error).stack }));
  }
  return c.json(apiError.toBody(c.get('requestId')), apiError.status);
});
