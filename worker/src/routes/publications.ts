import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody } from '../lib/parse-input';
import {
  distributionCreateSchema,
  publicationCreateQuerySchema,
  publicationCreateSchema,
  publicationListQuerySchema,
} from '../schemas/publications';
import * as distributions from '../services/distributions';
import * as service from '../services/publications';

const query = (url: string) => parseQuery(new URL(url).searchParams);

export const publicationRoutes = new Hono<AppBindings>()
  .post('/', async (c) => {
    const { join_once } = parseInput(publicationCreateQuerySchema, query(c.req.url), invalidQueryParams);
    return c.json(await service.createPublication(c.env, await parseJsonBody(c, publicationCreateSchema), join_once));
  })
  // Ours: a campaign's codes to every member of a segment, as an async action (202, as the OA's bulk calls answer).
  .post('/segment', async (c) =>
    c.json(await distributions.distributeToSegment(c.env, await parseJsonBody(c, distributionCreateSchema), c.get('requestId')), 202),
  )
  .get('/', async (c) =>
    c.json(await service.listPublications(c.env.DB, parseInput(publicationListQuerySchema, query(c.req.url), invalidQueryParams))),
  );
