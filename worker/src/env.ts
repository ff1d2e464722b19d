import type { WriteMessage } from './queue/messages';
import type { WebhookMessage } from './queue/webhook-messages';

/** Bindings and secrets of the Worker (wrangler.toml, Worker secrets, .dev.vars). */
export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  /** What validate and track record, and long work in chunks: consumed by this worker (consumers/writes.ts). */
  WRITES: Queue<WriteMessage>;
  /** Webhook dispatch wake-ups and delivery attempts: consumed by this worker (consumers/webhooks.ts). */
  WEBHOOKS: Queue<WebhookMessage>;
  /**
   * Seconds between a failed webhook attempt and the next, comma-separated; past the last, the
   * delivery is dead. Default: Standard Webhooks' 5,300,1800,7200,18000,36000,36000.
   */
  WEBHOOK_RETRY_DELAYS?: string;
  /** "on" lets a webhook URL name a loopback IP literal (127.0.0.0/8, [::1]), over http or https: tests only. DEMO=on allows it too. */
  WEBHOOK_ALLOW_HTTP_LOOPBACK?: string;
  /**
   * The `project_id` of a `voucherify`-format webhook's envelope (Voucherify's project id, e.g.
   * proj_…), for a receiver that checks it. Default "proj_vouchsafe".
   */
  WEBHOOK_PROJECT_ID?: string;
  /** Server-side key pair (X-App-Id / X-App-Token). */
  APP_ID: string;
  APP_TOKEN: string;
  /** Client-side key pair (X-Client-Application-Id / X-Client-Token), safe to ship to browsers. */
  CLIENT_APP_ID: string;
  CLIENT_TOKEN: string;
  /** Comma-separated origins allowed to use the client key; `*` allows any origin. */
  ALLOWED_ORIGINS: string;
  /** Key of HMAC(TRACKING_SECRET, identity hash) for tracking profiles. */
  TRACKING_SECRET: string;
  /** Key the shop's backend signs identity claims with (shared/identity.ts signClaim). */
  IDENTITY_SECRET?: string;
  /**
   * The key IDENTITY_SECRET replaced, during a rotation: signatures made with it are still believed
   * (until they expire) so no signed-in shopper drops to anonymous at the switch. Remove it after
   * the longest signature lifetime the shop uses (a day by default).
   */
  IDENTITY_SECRET_PREVIOUS?: string;
  /**
   * "off" believes identities claimed by the browser (Voucherify's behaviour; docs/identity.md says the
   * risk); anything else, unset included, requires them signed with IDENTITY_SECRET.
   */
  IDENTITY_VERIFICATION?: string;
  /** Workers Rate Limiting bindings of every /client/v1/* route (wrangler.toml [[ratelimits]]). */
  CLIENT_BY_IP: RateLimit;
  CLIENT_BY_TRACKING_ID: RateLimit;
  /** Workers Rate Limiting binding of POST /console/sign-in, per IP (wrangler.toml [[ratelimits]]). */
  CONSOLE_SIGNIN_BY_IP: RateLimit;
  /** "off" disables the rate limits (the console sign-in's too), for local benchmarks only; anything else keeps them on. */
  RATE_LIMITS?: string;
  /** Client events a tracking profile may record per UTC day (default 500); more answer 429. */
  CLIENT_EVENTS_PER_DAY?: string;
  /** Days after its last visit that the cron deletes an anonymous tracking profile (default 400). */
  ANONYMOUS_RETENTION_DAYS?: string;
  /**
   * Days after which the cron deletes what the public key's redemptions stored for nobody: guest
   * redemptions and failed ones (default: ANONYMOUS_RETENTION_DAYS, else 400).
   */
  CLIENT_REDEMPTION_RETENTION_DAYS?: string;
  /**
   * Days the raw events are kept for the activity feed (default 90): the cron then writes older ones
   * to EVENT_ARCHIVE and deletes them; event counts (filters, rules) keep counting them. 0 expires,
   * at the next cron run, every raw event written before it (tests and demos).
   */
  EVENT_RETENTION_DAYS?: string;
  /** Events per archive object and delete batch at most (default 5,000; services/event-retention.ts). */
  EVENT_ARCHIVE_BATCH?: string;
  /**
   * R2 bucket of expired raw events, gzip-compressed NDJSON per UTC hour (wrangler.toml
   * [[r2_buckets]], bucket vouchsafe-event-archive). Without it nothing expires.
   */
  EVENT_ARCHIVE?: R2Bucket;
  /** "on" shows vouchers' metadata in /client/v1/* answers (Voucherify's behaviour); hidden unless set. */
  CLIENT_VOUCHER_METADATA?: string;
  /** Static files: the SDK builds and the demo storefront (dist/public). */
  ASSETS: Fetcher;
  /**
   * "on" serves the demo storefront (.dev.vars.example); off unless set. Its sign-in signs any
   * e-mail without a password, so it answers loopback hosts only (127.0.0.1, localhost, [::1])
   * unless DEMO_PUBLIC_SIGNIN=on.
   */
  DEMO?: string;
  /**
   * "on" serves the demo's passwordless sign-in on any host: then anyone can sign in as anyone,
   * and the worker says so (console.warn). Only for a throwaway public demo, never a shop.
   */
  DEMO_PUBLIC_SIGNIN?: string;
  /** "on" adds X-Vouchsafe-Ops (storage operations per request) to responses, and the writes consumer logs one JSON line per delivery: local benchmarks only. */
  COUNT_OPS?: string;
  /** "off" runs every D1 query on the primary, without sessions (the topology benchmark's comparison). */
  READ_REPLICAS?: string;
  /** "far" delays each storage operation as a location far from the D1 primary waits (lib/topology.ts); local only. */
  SIMULATE_TOPOLOGY?: string;
  /** Overrides of SIMULATE_TOPOLOGY's delays in ms: "d1_primary=150,queue_sends=5". */
  TOPOLOGY_DELAYS?: string;
  /**
   * D1 time, in ms, that one batch of a bulk writer aims at (imports, bulk and metadata updates,
   * distributions, code generation, webhook fan-out; lib/write-pacer.ts). Default 25; 0 keeps
   * every batch at its minimum; "unbounded" writes each at its maximum without pauses.
   */
  BULK_WRITE_TARGET_MS?: string;
  /** "on" serves POST /client/v1/redemptions (redeem with the public client key); off unless set. */
  CLIENT_REDEMPTIONS?: string;
  /**
   * The longest a validation session asked for with the public client key holds its units, in
   * minutes (default 60; services/validation-sessions.ts clientSessionMaxMs). Longer asks are held
   * this long, and the answer says so.
   */
  CLIENT_SESSION_MAX_MINUTES?: string;
}

export interface AppVariables {
  requestId: string;
}

export interface AppBindings {
  Bindings: Env;
  Variables: AppVariables;
}
