import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidPayload, invalidQueryParams } from '../errors';
import { readMultipartFile } from '../lib/multipart';
import { parseQuery } from '../lib/qs';
import { parseInput, parseJsonBody, readJsonBody } from '../lib/parse-input';
import {
  campaignCreateSchema,
  campaignImportItemSchema,
  campaignListQuerySchema,
  campaignUpdateSchema,
  campaignVoucherAddQuerySchema,
  campaignVoucherAddSchema,
  MAX_IMPORT_CODES,
} from '../schemas/campaigns';
import { cleanCode } from '../schemas/vouchers';
import { promotionCampaignCreateSchema } from '../schemas/promotions';
import * as service from '../services/campaigns';
import * as promotions from '../services/promotions';
import { z } from 'zod';

const query = (url: string) => parseQuery(new URL(url).searchParams);
const importBodySchema = z.array(campaignImportItemSchema).min(1, 'must hold at least one code').max(MAX_IMPORT_CODES);

export const campaignRoutes = new Hono<AppBindings>()
  .post('/', async (c) => {
    const body = await readJsonBody(c);
    // One path for both kinds, as the spec has it (OA POST /v1/campaigns): the type picks the schema.
    if (typeof body === 'object' && body !== null && (body as { campaign_type?: unknown }).campaign_type === 'PROMOTION')
      return c.json(await promotions.createPromotionCampaign(c.env, parseInput(promotionCampaignCreateSchema, body)));
    return c.json(await service.createCampaign(c.env, parseInput(campaignCreateSchema, body)));
  })
  .get('/', async (c) =>
    c.json(await service.listCampaigns(c.env.DB, parseInput(campaignListQuerySchema, query(c.req.url), invalidQueryParams))),
  )
  .post('/:id/vouchers/:code', async (c) => {
    const body = await parseJsonBody(c, campaignVoucherAddSchema.default({}));
    const result = await service.addCampaignVouchers(
      c.env,
      c.req.param('id'),
      { ...body, code: cleanCode(c.req.param('code')) },
      1,
      c.get('requestId'),
    );
    return c.json(result.body, result.status);
  })
  .post('/:id/vouchers', async (c) => {
    const body = await parseJsonBody(c, campaignVoucherAddSchema.default({}));
    const { vouchers_count } = parseInput(campaignVoucherAddQuerySchema, query(c.req.url), invalidQueryParams);
    const result = await service.addCampaignVouchers(c.env, c.req.param('id'), body, vouchers_count ?? 1, c.get('requestId'));
    return c.json(result.body, result.status);
  })
  // OA answers 202 with the async action (readOnly-openAPI.json /v1/campaigns/{campaignId}/import).
  .post('/:id/import', async (c) =>
    c.json(
      await service.importCampaignVouchers(
        c.env,
        c.req.param('id'),
        await parseJsonBody(c, importBodySchema),
        c.get('requestId'),
        'CAMPAIGN.VOUCHERS_IMPORT',
      ),
      202,
    ),
  )
  .post('/:id/importCSV', async (c) => {
    const file = await readMultipartFile(c.req.raw, 'file', service.MAX_CAMPAIGN_CSV_BYTES);
    if (!file) throw invalidPayload('file: must be a file (multipart/form-data field "file")');
    return c.json(await service.importCampaignCsv(c.env, c.req.param('id'), file, c.get('requestId')));
  })
  // OA /v1/campaigns/{campaignId}/enable and /disable (readOnly-openAPI.json:L39906, :L39955): {}.
  .post('/:id/enable', async (c) => c.json(await service.setCampaignActive(c.env, c.req.param('id'), true)))
  .post('/:id/disable', async (c) => c.json(await service.setCampaignActive(c.env, c.req.param('id'), false)))
  .get('/:id', async (c) => c.json(await service.getCampaign(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) => c.json(await service.updateCampaign(c.env, c.req.param('id'), await parseJsonBody(c, campaignUpdateSchema))))
  // OA: 202 with the async action of the deletion (CampaignsDeleteResponseBody).
  .delete('/:id', async (c) => c.json(await service.deleteCampaign(c.env, c.req.param('id'), c.get('requestId')), 202));
