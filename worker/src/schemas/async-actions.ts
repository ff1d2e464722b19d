import { z } from 'zod';
import { intParam, isoDateParam } from './common';

/** GET /v1/async-actions (OA: `limit` ParameterLimit 1-100, `end_date` ParameterDate). */
export const asyncActionListQuerySchema = z
  .object({ limit: intParam(1, 100).optional(), end_date: isoDateParam.optional() })
  .transform((q) => ({ limit: q.limit ?? 10, createdBefore: q.end_date }));

export type AsyncActionListQuery = z.output<typeof asyncActionListQuerySchema>;
