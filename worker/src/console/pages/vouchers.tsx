import { Hono } from 'hono';
import type { AppBindings } from '../../env';
import type { ApiFetch } from '../api';

export function voucherPages(_fetcher: ApiFetch) {
  return new Hono<AppBindings>();
}
export function campaignPages(_fetcher: ApiFetch) {
  return new Hono<AppBindings>();
}
export function simulatorPages(_fetcher: ApiFetch) {
  return new Hono<AppBindings>();
}
