import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseJsonBody } from '../lib/validation';
import { eventCreateSchema } from '../schemas/events';
import { type EventCaller, trackEvent } from '../services/events';

/** POST /v1/events (server key) and POST /client/v1/events (client key) share the handler. */
export const eventRoutes = (caller: EventCaller) =>
  new Hono<AppBindings>().post('/', async (c) =>
    c.json(await trackEvent(c.env.DB, await parseJsonBody(c, eventCreateSchema), caller)),
  );
