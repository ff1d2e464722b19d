import { CATALOGUE } from '../routes/catalogue';

/**
 * POST routes that write nothing to D1 themselves (`writes: false` in routes/catalogue.ts): what
 * they record goes through the WRITES queue (validations, events), or they record nothing (a
 * segment preview or explanation). Read by the D1 session (such a request may start on a replica:
 * middleware/d1-session.ts) and by the webhook wake-up (such a request wrote no event itself:
 * services/webhook-wake.ts).
 */
const READ_ONLY_POSTS: readonly RegExp[] = CATALOGUE.filter((route) => route.method === 'post' && route.writes === false).map(
  // A parameter is one path segment, a wildcard anything; a trailing slash is the same route.
  (route) => new RegExp(`^${route.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`),
);

export const isReadOnlyPost = (path: string): boolean => READ_ONLY_POSTS.some((route) => route.test(path));
