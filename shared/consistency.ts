/**
 * Read-your-writes across requests (docs/architecture.md, "Consistency"): a server-key response carries the D1
 * session bookmark of what it wrote in BOOKMARK_HEADER; a later request that sends it back reads
 * at least that state, from whichever replica. A shop's backend hands it to the browser in the
 * BOOKMARK_COOKIE companion of the tracking cookie, which the browser SDK sends back.
 */
export const BOOKMARK_HEADER = 'X-Vouchsafe-Bookmark';
export const BOOKMARK_COOKIE = 'vs_bm';
/** A bookmark stops mattering once replicas have caught up (seconds); the cookie outlives that generously. */
export const BOOKMARK_COOKIE_SECONDS = 300;
