import { Hono } from 'hono';
import type { AppBindings } from '../env';
import { invalidQueryParams } from '../errors';
import { parseJsonBody, parseInput } from '../lib/parse-input';
import {
  assignmentCreateSchema,
  assignmentListQuerySchema,
  ruleAssignmentListQuerySchema,
  validationRuleCreateSchema,
  validationRuleListQuerySchema,
  validationRuleUpdateSchema,
} from '../schemas/validation-rules';
import * as service from '../services/vouchers';

export const validationRuleRoutes = new Hono<AppBindings>()
  .post('/', async (c) => c.json(await service.createValidationRule(c.env.DB, await parseJsonBody(c, validationRuleCreateSchema))))
  .get('/', async (c) =>
    c.json(await service.listValidationRules(c.env.DB, parseInput(validationRuleListQuerySchema, c.req.query(), invalidQueryParams))),
  )
  .get('/:id', async (c) => c.json(await service.getValidationRule(c.env.DB, c.req.param('id'))))
  .put('/:id', async (c) =>
    c.json(await service.updateValidationRule(c.env, c.req.param('id'), await parseJsonBody(c, validationRuleUpdateSchema))),
  )
  .delete('/:id', async (c) => {
    await service.deleteValidationRule(c.env, c.req.param('id'));
    return c.body(null, 204);
  })
  .post('/:id/assignments', async (c) => {
    const target = await parseJsonBody(c, assignmentCreateSchema);
    return c.json(await service.assignValidationRule(c.env, c.req.param('id'), target));
  })
  .get('/:id/assignments', async (c) => {
    const query = parseInput(ruleAssignmentListQuerySchema, c.req.query(), invalidQueryParams);
    return c.json(await service.listAssignments(c.env.DB, { ...query, ruleId: c.req.param('id') }));
  })
  .delete('/:id/assignments/:assignmentId', async (c) => {
    await service.unassignValidationRule(c.env, c.req.param('id'), c.req.param('assignmentId'));
    return c.body(null, 204);
  });

/** GET /v1/validation-rules-assignments: assignments of every rule, by rule or voucher. */
export const validationRuleAssignmentRoutes = new Hono<AppBindings>().get('/', async (c) =>
  c.json(await service.listAssignments(c.env.DB, parseInput(assignmentListQuerySchema, c.req.query(), invalidQueryParams))),
);
