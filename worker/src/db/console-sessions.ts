// Migration 0025: the console sessions that were signed out before their expiry (console/session.ts).

/**
 * Records that session `sessionId` (valid until `expiresAt`, epoch seconds) was signed out, and
 * forgets revocations of tokens that have expired by `nowS` on the way: they refuse themselves.
 */
export async function revokeConsoleSession(db: D1Database, sessionId: string, expiresAt: number, nowS: number): Promise<void> {
  await db.batch([
    db.prepare('DELETE FROM console_session_revocations WHERE expires_at <= ?').bind(nowS),
    db.prepare('INSERT OR IGNORE INTO console_session_revocations (session_id, expires_at) VALUES (?, ?)').bind(sessionId, expiresAt),
  ]);
}

/** True when session `sessionId` was signed out. */
export async function isConsoleSessionRevoked(db: D1Database | D1DatabaseSession, sessionId: string): Promise<boolean> {
  const row = await db.prepare('SELECT 1 AS revoked FROM console_session_revocations WHERE session_id = ?').bind(sessionId).first();
  return row !== null;
}
