// Demo records `npm start` seeds into the local database through the API, so that a fresh clone has
// something to show. Seeding creates only what is missing, so restarts keep local edits. Customer
// source ids are their e-mails, as the demo's checkout names customers: signing in as
// alice@example.com on the demo page is Alice, a gold customer (GOLD20).
export const demoCustomers = [
  {
    source_id: 'alice@example.com',
    name: 'Alice Morgan',
    email: 'alice@example.com',
    address: { city: 'Berlin', country: 'Germany' },
    metadata: { tier: 'gold', newsletter: true },
  },
  {
    source_id: 'bob@example.com',
    name: 'Bob Smith',
    email: 'bob@example.com',
    address: { city: 'Warsaw', country: 'Poland' },
    metadata: { tier: 'silver' },
  },
  {
    source_id: 'carol@example.com',
    name: 'Carol Jones',
    email: 'carol@example.com',
    address: { city: 'London', country: 'United Kingdom' },
    metadata: { tier: 'bronze', newsletter: false },
  },
];

/** Segments by name: seeding skips a name that exists. */
export const demoSegments = [
  {
    name: 'Gold customers',
    type: 'auto-update',
    filter: { junction: 'and', 'metadata.tier': { conditions: { $is: ['gold'] } } },
  },
  {
    name: 'Engaged visitors',
    type: 'auto-update',
    filter: { junction: 'and', 'events.viewed_product.count': { conditions: { $more_than_equal: [3] } } },
  },
  {
    name: 'Repeat buyers',
    type: 'auto-update',
    filter: { junction: 'and', 'summary.orders.total_count': { conditions: { $more_than_equal: [2] } } },
  },
];

/**
 * Vouchers by code; `segment` names a demo segment the voucher is restricted to (a validation rule
 * customer.segment $is); `itemRule` is the rest of a validation rule of its own (an item-scoped
 * discount: applicable_to and an order.items.any rule).
 */
export const demoVouchers = [
  // public: offered to anyone who asks which offers they can use (docs/qualifications.md).
  { code: 'WELCOME10', discount: { type: 'PERCENT', percent_off: 10 }, metadata: { demo: true }, public: true },
  { code: 'GOLD20', discount: { type: 'PERCENT', percent_off: 20, amount_limit: 5000 }, segment: 'Gold customers' },
  { code: 'BROWSE5', discount: { type: 'AMOUNT', amount_off: 500 }, segment: 'Engaged visitors' },
  { code: 'LIMITED', discount: { type: 'FIXED', fixed_amount: 1000 }, redemption: { quantity: 3 } },
  {
    code: 'TEES15',
    discount: { type: 'PERCENT', percent_off: 15, effect: 'APPLY_TO_ITEMS' },
    itemRule: {
      name: 'TEES15: tees only',
      error: { message: 'TEES15 is for tees: add an organic tee to your cart.' },
      rules: { 1: { name: 'order.items.any', conditions: { $is: [{ object: 'sku', id: 'sku_tee' }] } } },
      applicable_to: { included: [{ object: 'sku', id: 'sku_tee' }] },
    },
  },
];

/**
 * Promotions by campaign name: code-less offers that apply to whoever their rules accept, with no
 * code typed (docs/vouchers-and-campaigns.md, "Promotions"). A tier's `segment` names a demo
 * segment and `minAmount` a least order amount (in cents): each becomes its validation rule.
 */
export const demoPromotions = [
  {
    name: 'Automatic offers',
    tiers: [
      {
        name: 'Gold customers: 5% off',
        banner: '5% off every order for our Gold customers',
        discount: { type: 'PERCENT', percent_off: 5 },
        segment: 'Gold customers',
      },
      {
        name: 'Orders of 100 or more: 10 off',
        banner: '10 off any order of 100 or more',
        discount: { type: 'AMOUNT', amount_off: 1000 },
        minAmount: 10000,
      },
    ],
  },
];
