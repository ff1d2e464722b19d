-- The operator console's sign-outs. A console session is a signed cookie (console/session.ts) that
-- carries a random session id; signing out writes that id here, and every console request checks
-- it on the primary, so a copy of the cookie stops working the moment its owner signs out, in every
-- location (KV would let another location go on accepting it for up to a minute). A row is needed
-- only until the token it revokes would have expired anyway: each sign-out deletes the rows past
-- that, so the table holds at most the sign-outs of the last session lifetime (8 hours).
CREATE TABLE console_session_revocations (
  session_id TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL  -- epoch seconds: the revoked token's own expiry
) WITHOUT ROWID;
