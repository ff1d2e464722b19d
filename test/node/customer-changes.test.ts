import { describe, expect, it } from 'vitest';
import { changesCustomer, emptyCustomerRow } from '../../worker/src/db/customers';
import { customerUpdateSchema } from '../../worker/src/schemas/customers';

/**
 * changesCustomer decides whether a server validate writes the customer it is sent (services/visitor.ts
 * customerWriteNeeded): a field it misses as changed would be judged as stored and never written,
 * so every case where the write would store something else must answer true.
 */
const stored = {
  ...emptyCustomerRow('cust_changes', 1),
  source_id: 'changes-1',
  name: 'Ann',
  email: 'ann@example.com',
  birthdate: '1990-02-03',
  address_city: 'Lyon',
  metadata: '{"tier":"gold","n":1}',
};
const write = (input: unknown) => customerUpdateSchema.parse(input);

describe('changesCustomer: would writing the request change the stored customer', () => {
  it('no: nothing sent, or every field sent as stored', () => {
    expect(changesCustomer(stored, write({}))).toBe(false);
    expect(changesCustomer(stored, write({ name: 'Ann', email: 'ann@example.com' }))).toBe(false);
    // The deprecated alias is the same column.
    expect(changesCustomer(stored, write({ birthday: '1990-02-03' }))).toBe(false);
    expect(changesCustomer(stored, write({ address: { city: 'Lyon' }, phone: null }))).toBe(false);
    expect(changesCustomer(stored, write({ metadata: { tier: 'gold', n: 1 } }))).toBe(false);
    expect(changesCustomer({ ...stored, metadata: '{}' }, write({ metadata: null }))).toBe(false);
  });

  it('yes: a different value, a cleared field, a cleared address, other metadata', () => {
    expect(changesCustomer(stored, write({ name: 'Anne' }))).toBe(true);
    // Stored as given: a change of case is a change.
    expect(changesCustomer(stored, write({ email: 'Ann@example.com' }))).toBe(true);
    expect(changesCustomer(stored, write({ name: null }))).toBe(true);
    expect(changesCustomer(stored, write({ phone: '+33 1' }))).toBe(true);
    expect(changesCustomer(stored, write({ address: null }))).toBe(true);
    expect(changesCustomer(stored, write({ birthdate: '1990-02-04' }))).toBe(true);
    // Metadata is replaced whole: a missing key, an added key, another value, another order.
    expect(changesCustomer(stored, write({ metadata: { tier: 'gold' } }))).toBe(true);
    expect(changesCustomer(stored, write({ metadata: { tier: 'gold', n: 1, x: true } }))).toBe(true);
    expect(changesCustomer(stored, write({ metadata: { tier: 'gold', n: '1' } }))).toBe(true);
    expect(changesCustomer(stored, write({ metadata: { n: 1, tier: 'gold' } }))).toBe(true);
    expect(changesCustomer(stored, write({ metadata: null }))).toBe(true);
  });
});
