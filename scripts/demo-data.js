// Demo records `npm start` seeds into the local database through the API, so that a fresh clone has
// something to show. Seeding creates only what is missing, so restarts keep local edits.
export const demoCustomers = [
  {
    source_id: 'demo-alice@example.com',
    name: 'Alice Morgan',
    email: 'alice@example.com',
    address: { city: 'Berlin', country: 'Germany' },
    metadata: { tier: 'gold', newsletter: true },
  },
  {
    source_id: 'demo-bob@example.com',
    name: 'Bob Smith',
    email: 'bob@example.com',
    address: { city: 'Warsaw', country: 'Poland' },
    metadata: { tier: 'silver' },
  },
  {
    source_id: 'demo-carol@example.com',
    name: 'Carol Jones',
    email: 'carol@example.com',
    address: { city: 'London', country: 'United Kingdom' },
    metadata: { tier: 'bronze', newsletter: false },
  },
];
