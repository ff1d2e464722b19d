import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseInput, parseJsonBody, readJsonBody } from '../lib/parse-input';
import { clientIdentitySchema } from '../schemas/identity';
import { eventCreateSchema } from '../schemas/events';
import { DailyEventCapReached, trackClientEvent, trackEvent } from '../services/events';

/** POST /v1/events (server key). */
export const eventRoutes = new Hono<AppBindings>().post('/', async (c) =>
  c.json(await trackEvent(c.env, await parseJsonBody(c, eventCreateSchema))),
);

/** POST /client/v1/events (public client key), with the browser SDK's identity_hash and its signature. */
export const clientEventRoutes = new Hono<AppBindings>().post('/', async (c) => {
  const body = await readJsonBody(c);
  const input = parseInput(eventCreateSchema, body);
  const { identity_hash, identity_signature } = parseInput(clientIdentitySchema, body ?? {});
  try {
    return c.json(
      await trackClientEvent(c.env, input, {
        identityHash: identity_hash,
        proof: { request: c.req.raw, bodySignature: identity_signature },
      }),
    );
  } catch (error) {
    if (error instanceof DailyEventCapReached) c.header('Retry-After', String(error.retryAfterSeconds));
    throw error;
  }
});
