import type { Discount } from './types';

/**
 * What a discount takes off an order of `amount` cents. Never more than the order (the total never
 * goes below zero), never more than a PERCENT discount's amount_limit, never negative.
 */
export function discountAmount(discount: Discount, amount: number): number {
  const order = Math.max(0, amount);
  let off: number;
  switch (discount.type) {
    case 'AMOUNT':
      off = discount.amount_off;
      break;
    case 'PERCENT':
      // Half-up to the cent, as a till would round.
      off = Math.round((order * discount.percent_off) / 100);
      if (discount.amount_limit !== undefined) off = Math.min(off, discount.amount_limit);
      break;
    case 'FIXED':
      // The order costs fixed_amount: the discount is the difference, if the order costs more.
      off = order - discount.fixed_amount;
      break;
  }
  return Math.min(order, Math.max(0, off));
}
