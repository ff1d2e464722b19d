import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { openApiDocument } from '../openapi';

let document: ReturnType<typeof openApiDocument> | undefined;

/** GET /openapi.json: the OpenAPI 3.1 description of the API, no key needed. */
export const openApiRoutes = new Hono<AppBindings>().get('/', (c) => {
  document ??= openApiDocument();
  c.header('Cache-Control', 'public, max-age=300');
  c.header('Access-Control-Allow-Origin', '*');
  return c.json(document);
});
