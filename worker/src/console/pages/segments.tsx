import { Hono } from 'hono';
import type { AppBindings } from '../../env';
import type { ApiFetch } from '../api';

export function segmentPages(_fetcher: ApiFetch) {
  return new Hono<AppBindings>();
}
