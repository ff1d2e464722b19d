import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseJsonBody } from '../lib/parse-input';
import { segmentEventSchema, segmentGroupSchema, segmentIdentifySchema } from '../schemas/cdp-segment';
import * as service from '../services/cdp-segment';

/**
 * /segmentio/*: the routes Segment's "Voucherify (Actions)" destination calls on its Custom URL
 * (url-provider.ts: `${customURL}/segmentio/${type}-processing`), behind segmentAuth.
 */
export const segmentioRoutes = new Hono<AppBindings>()
  // The destination's testAuthentication: a GET whose only failing answer is 401 (index.ts).
  .get('/test-authentication', (c) => c.json({ ok: true }))
  .post('/customer-processing', async (c) => c.json(await service.identify(c.env.DB, await parseJsonBody(c, segmentIdentifySchema))))
  .post('/event-processing', async (c) => c.json(await service.track(c.env, await parseJsonBody(c, segmentEventSchema))))
  .post('/group-processing', async (c) => c.json(await service.group(c.env.DB, await parseJsonBody(c, segmentGroupSchema))));
