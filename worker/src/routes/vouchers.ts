import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { apiError, invalidPayload, invalidQueryParams } from '../errors';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody, readJsonBody } from '../lib/parse-input';
import { explainQuerySchema, validationContextSchema } from '../schemas/checkout';
import { cleanCode, voucherCreateSchema, voucherListQuerySchema, voucherUpdateSchema } from '../schemas/vouchers';
import { validateVoucher } from '../services/validation';
import { releaseSession } from '../services/validation-sessions';
import * as service from '../services/vouchers';

/** A code in the path, cleaned as the official SDK cleans codes. */
const pathCode = (raw: string) => cleanCode(raw);

/**
 * Voucherify's own operations that share the shape of POST /v1/vouchers/{code}: import
 * (readOnly-openAPI.json:L37521), importCSV (:L37798) and the old qualification (OA24
 * reference/OpenAPI.json:L84501). None is served here, and none may read as a voucher created
 * under that code: they answer as any unknown route does.
 */
const OPERATIONS_NOT_CODES: ReadonlySet<string> = new Set(['import', 'importCSV', 'qualification']);

export const voucherRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createVoucher(c.env, await parseJsonBody(c, voucherCreateSchema))))
  // created_at[after]=… arrives qs-style, as the official SDK's vouchers.list writes it.
  .get('/', async (c) =>
    c.json(
      await service.listVouchers(
        c.env.DB,
        parseInput(voucherListQuerySchema, parseQuery(new URL(c.req.url).searchParams), invalidQueryParams),
      ),
    ),
  )
  // Specific paths first: "/{code}/validate" must not read as a voucher created under that code.
  .post('/:code/validate', async (c) => {
    const explain = parseInput(explainQuerySchema, c.req.query(), invalidQueryParams);
    const context = await parseJsonBody(c, validationContextSchema.default({}));
    context.tracking_id ??= c.req.query('tracking_id');
    const { body } = await validateVoucher(c.env, pathCode(c.req.param('code')), context, c.get('requestId'), {
      upsertCustomer: true,
      explain,
    });
    return c.json(body);
  })
  .post('/:code/enable', async (c) => c.json(await service.setVoucherActive(c.env, pathCode(c.req.param('code')), true)))
  .post('/:code/disable', async (c) => c.json(await service.setVoucherActive(c.env, pathCode(c.req.param('code')), false)))
  .post('/:code', async (c) => {
    if (OPERATIONS_NOT_CODES.has(c.req.param('code'))) throw apiError('not_found', 'No such route');
    const body = await readJsonBody(c);
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))
      throw invalidPayload('The body must be a JSON object.');
    const input = parseInput(voucherCreateSchema, { ...(body as object | undefined), code: pathCode(c.req.param('code')) });
    return c.json(await service.createVoucher(c.env, input));
  })
  .get('/:code', async (c) => c.json(await service.getVoucher(c.env.DB, pathCode(c.req.param('code')))))
  .put('/:code', async (c) =>
    c.json(await service.updateVoucher(c.env, pathCode(c.req.param('code')), await parseJsonBody(c, voucherUpdateSchema))),
  )
  // The SDK's vouchers.releaseValidationSession (Vouchers.d.ts:64): 204, as the spec answers (readOnly-openAPI.json:L38025).
  .delete('/:code/sessions/:key', async (c) => {
    await releaseSession(c.env, pathCode(c.req.param('code')), c.req.param('key'));
    return c.body(null, 204);
  })
  .delete('/:code', async (c) => {
    await service.deleteVoucher(c.env, pathCode(c.req.param('code')));
    return c.body(null, 204);
  });
