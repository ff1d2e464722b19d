/**
 * The 10-condition segment filter the segment benchmarks judge 100,000 customers with (about 1.5 %
 * match). `createdBefore` bounds created_at: a fixed past date for a reproducible member count, or a
 * far future one when the customers are generated now.
 */
export const tenConditionFilter = (createdBefore: string) => ({
  junction: 'and',
  email: { conditions: { $ends_with: ['@example.com'] } },
  name: { conditions: { $starts_with: ['Customer'] } },
  'address.city': { conditions: { $in: ['Berlin', 'Warsaw', 'Paris'] } },
  'address.country': { conditions: { $is_not: ['Narnia'] } },
  created_at: { conditions: { $before: [createdBefore] } },
  'summary.orders.total_amount': { conditions: { $more_than: [20_000] } },
  'summary.orders.total_count': { conditions: { $more_than_equal: [2] } },
  'summary.orders.last_order_date': { conditions: { $less_than: [60] } },
  'metadata.tier': { conditions: { $in: ['gold', 'platinum'] } },
  'metadata.age': { conditions: { $more_than: [25] } },
});
