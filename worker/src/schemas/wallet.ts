import { z } from 'zod';
import { intParam } from './common';
import { strictObject } from './vouchers';

/**
 * GET /v1/customers/{id}/redeemables (OA list-customer-redeemables: limit, order, starting_after_id,
 * filters). `order` takes the spec's id / -id and the SDK's created_at / -created_at
 * (CustomerRedeemablesListQueryParams). The advanced `filters` are refused by name rather than ignored.
 */
export const walletQuerySchema = strictObject({
  limit: intParam(1, 100).optional(),
  order: z.enum(['id', '-id', 'created_at', '-created_at']).optional(),
  starting_after_id: z.string().min(1).max(64).optional(),
  filters: z.never({ error: 'not supported: advanced filters' }).optional(),
}).transform((q) => ({ limit: q.limit ?? 10, order: q.order ?? ('id' as const), startingAfterId: q.starting_after_id }));
export type WalletQuery = z.output<typeof walletQuerySchema>;
