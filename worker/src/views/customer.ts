import { CUSTOMER_FIELDS } from '../../../shared/customer-fields';
import type { Customer } from '../../../shared/types';
import type { CustomerRow } from '../db/customers';
import { toIso } from '../lib/time';

// The customer object, built from its row: every catalogue field at its wire path and type.

const parseJsonObject = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text);
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
};

/** Sets `value` at a dot path of `target`, creating the objects on the way. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys[keys.length - 1] as string] = value;
}

/** The wire customer object of a row: every catalogue field at its path, in its wire type. */
export function rowToCustomer(row: CustomerRow): Customer {
  const customer: Record<string, unknown> = { id: row.id };
  for (const field of CUSTOMER_FIELDS) {
    const value = row[field.column];
    if (value === null && 'omitWhenNull' in field) continue;
    setPath(customer, field.path, field.kind === 'timestamp' && value !== null ? toIso(value as number) : value);
  }
  const address = customer.address as Record<string, unknown>;
  // Voucherify answers `address: null` for a customer without any address line.
  if (Object.values(address).every((v) => v === null)) customer.address = null;
  (customer.loyalty as Record<string, unknown>).campaigns = {};
  customer.referrals = { total: 0, campaigns: [] };
  customer.metadata = parseJsonObject(row.metadata);
  customer.system_metadata = parseJsonObject(row.system_metadata);
  customer.object = 'customer';
  return customer as unknown as Customer;
}
