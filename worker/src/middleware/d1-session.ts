import type { Context, MiddlewareHandler } from 'hono';
import { BOOKMARK_HEADER } from '../../../shared/consistency';
import type { AppBindings } from '../env';
import { isReadOnlyPost } from '../catalogue';

/**
 * Every request talks to D1 through one Sessions API session (read-replication.mdx), so reads may
 * be served by the nearest read replica while the request still reads its own writes (a session is
 * sequentially consistent). Where a session starts:
 * - at the bookmark the caller passes in X-Vouchsafe-Bookmark (one a server response gave it), so
 *   it reads at least what it wrote before: after a redeem, the next validate sees the used unit;
 * - else anywhere ("first-unconstrained") for the routes that only read: GETs, validate, track;
 * - else at the primary ("first-primary"): the writing routes read what they then write against
 *   the newest state (redeem's conditional UPDATE guards the counters either way).
 * Server-key responses carry the session's bookmark in X-Vouchsafe-Bookmark. Client-key responses
 * never do: a bookmark is a position in the database's commit log, and polling it through the
 * public key would count the shop's writes (its orders).
 * READ_REPLICAS=off runs every query on the binding itself, i.e. on the primary: the path before
 * sessions, kept for the topology benchmark's comparison.
 */
export { BOOKMARK_HEADER };

// D1's bookmarks (and miniflare's) are four dash-separated hex fields; anything else is ignored.
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/i;

function startOf(c: Context<AppBindings>): string {
  const bookmark = c.req.header(BOOKMARK_HEADER);
  if (bookmark && BOOKMARK.test(bookmark)) return bookmark;
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || (method === 'POST' && isReadOnlyPost(c.req.path))) {
    return 'first-unconstrained';
  }
  return 'first-primary';
}

/** A session in the binding's place, so services keep taking `env.DB`. */
class SessionDatabase implements D1Database {
  constructor(
    private readonly session: D1DatabaseSession,
    private readonly binding: D1Database,
  ) {}
  prepare(query: string) {
    return this.session.prepare(query);
  }
  batch<T = unknown>(statements: D1PreparedStatement[]) {
    return this.session.batch<T>(statements);
  }
  /** Not part of a session: runs on the primary. */
  exec(query: string) {
    return this.binding.exec(query);
  }
  withSession(constraintOrBookmark?: string) {
    return this.binding.withSession(constraintOrBookmark);
  }
  dump() {
    return this.binding.dump();
  }
}

export const d1Session: MiddlewareHandler<AppBindings> = async (c, next) => {
  if (c.env.READ_REPLICAS === 'off') return next();
  const session = c.env.DB.withSession(startOf(c));
  c.env = { ...c.env, DB: new SessionDatabase(session, c.env.DB) };
  await next();
  const bookmark = session.getBookmark();
  if (bookmark && !c.req.path.startsWith('/client/')) c.res.headers.set(BOOKMARK_HEADER, bookmark);
};
