import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseJsonBody } from '../lib/parse-input';
import { qualificationSchema } from '../schemas/qualifications';
import { qualify } from '../services/qualifications';

/**
 * POST /v1/qualifications (the official SDK's qualifications.checkEligibility): the offers this
 * customer and order qualify for, each as validate would judge it (docs/qualifications.md). It
 * writes nothing, not even the customer it is sent: a storefront asks on every cart change.
 */
export const qualificationRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const input = await parseJsonBody(c, qualificationSchema);
  const { body } = await qualify(c.env, input, { client: false, wallet: true, showMetadata: true });
  return c.json(body);
});
