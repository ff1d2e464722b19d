/**
 * POST routes that write nothing to D1 themselves: what they record goes through the WRITES queue
 * (validations, events), or they record nothing (a segment preview or explanation). One catalogue,
 * read by the D1 session (such a request may start on a replica: middleware/d1-session.ts) and by
 * the webhook wake-up (such a request wrote no event itself: services/webhook-wake.ts).
 */
const READ_ONLY_POSTS = [
  /^\/client\/v1\/(validations|events)\/?$/,
  /^\/v1\/(validations|events)\/?$/,
  /^\/segmentio\/event-processing\/?$/,
  /^\/v1\/vouchers\/[^/]+\/validate\/?$/,
  /^\/v1\/segments\/preview\/?$/,
  /^\/v1\/segments\/[^/]+\/explain\/?$/,
];

export const isReadOnlyPost = (path: string): boolean => READ_ONLY_POSTS.some((route) => route.test(path));
