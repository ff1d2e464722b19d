/** The secrets every test run uses (worker tests inside workerd, node tests against Miniflare). */
export const TEST_ENV = {
  APP_ID: 'test-app-id',
  // 24 characters or more: the console refuses a shorter server key on any host but loopback.
  APP_TOKEN: 'test-app-token-0123456789abcdef',
  CLIENT_APP_ID: 'test-client-app-id',
  CLIENT_TOKEN: 'test-client-token',
  ALLOWED_ORIGINS: 'https://shop.example,http://127.0.0.1:5173',
  TRACKING_SECRET: 'test-tracking-secret',
  IDENTITY_SECRET: 'test-identity-secret',
  // The production default: identities claimed by the browser count only when signed. Test files
  // about Voucherify's trust-the-browser behaviour set IDENTITY_VERIFICATION=off for themselves.
  IDENTITY_VERIFICATION: 'required',
  // Tests share one rate-limit bucket per IP across files; test/worker/rate-limit.test.ts turns the
  // limits back on (the production default) for itself.
  RATE_LIMITS: 'off',
  // Set explicitly: the pool also reads a developer's .dev.vars, whose demo values must not leak in.
  DEMO: 'off',
  COUNT_OPS: 'off',
  // POST /client/v1/redemptions is off by default; the tests of it need it on.
  CLIENT_REDEMPTIONS: 'on',
  // Test receivers listen on http://127.0.0.1:<port>; production URLs must be https.
  WEBHOOK_ALLOW_HTTP_LOOPBACK: 'on',
} as const;
