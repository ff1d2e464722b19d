import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { parseJsonBody } from '../lib/validation';
import { assignmentCreateSchema, validationRuleCreateSchema } from '../schemas/vouchers';
import * as service from '../services/vouchers';

export const validationRuleRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createValidationRule(c.env.DB, await parseJsonBody(c, validationRuleCreateSchema))))
  .get('/:id', async (c) => c.json(await service.getValidationRule(c.env.DB, c.req.param('id'))))
  .delete('/:id', async (c) => {
    await service.deleteValidationRule(c.env, c.req.param('id'));
    return c.body(null, 204);
  })
  .post('/:id/assignments', async (c) => {
    const { related_object_id } = await parseJsonBody(c, assignmentCreateSchema);
    return c.json(await service.assignValidationRule(c.env, c.req.param('id'), related_object_id));
  });
