import type { Customer, CustomerActivitiesList, CustomerActivityList } from '../../../shared/types';
import * as activityDb from '../db/activity';
import * as customersDb from '../db/customers';
import { notFound } from '../errors';
import type { ActivitiesQueryInput, ActivityQueryInput } from '../schemas/activity';
import { activitiesListView, activityListView, activityView } from '../views/activity';
import { rowToCustomer } from '../views/customer';

async function requireCustomer(db: D1Database, idOrSourceId: string): Promise<Customer> {
  const row = await customersDb.findCustomer(db, idOrSourceId);
  if (!row) throw notFound('customer', idOrSourceId);
  return rowToCustomer(row);
}

/** GET /v1/customers/{id}/activity. */
export async function customerActivity(db: D1Database, idOrSourceId: string, q: ActivityQueryInput): Promise<CustomerActivityList> {
  const customer = await requireCustomer(db, idOrSourceId);
  if (q.campaignFilter) return activityListView([], false);
  const { rows, hasMore } = await activityDb.listActivity(db, { ...q, customerId: customer.id });
  return activityListView(
    rows.map((row) => activityView(row, customer)),
    hasMore,
  );
}

/** GET /v1/customers/{id}/activities (deprecated; the SDK's customers.listActivities). */
export async function customerActivities(db: D1Database, idOrSourceId: string, q: ActivitiesQueryInput): Promise<CustomerActivitiesList> {
  const customer = await requireCustomer(db, idOrSourceId);
  if (q.campaignFilter) return activitiesListView([], 0);
  const { rows, total } = await activityDb.listActivity(db, { ...q, customerId: customer.id }, true);
  return activitiesListView(
    rows.map((row) => activityView(row, customer)),
    total ?? 0,
  );
}
