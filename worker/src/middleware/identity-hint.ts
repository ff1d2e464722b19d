import type { MiddlewareHandler } from 'hono';
import type { AppBindings } from '../env';
import { IDENTITY_HEADER, identityOutcomeOf } from '../services/identity';

/** One log line per isolate: enough for an operator to find the reason, not one per request. */
let operatorHinted = false;

/**
 * /client/v1/*: after the route has answered, says in `X-Vouchsafe-Identity` what became of the
 * request's identity claims (services/identity.ts IDENTITY_HEADER): a storefront that names its
 * customers without a signature sees why they are judged as anonymous visitors. Browsers may read
 * the header (middleware/auth.ts exposes it). The first ignored claim of an isolate also logs a
 * hint for the operator, naming the two ways out; nothing about the request or who it named.
 */
export const identityHint: MiddlewareHandler<AppBindings> = async (c, next) => {
  await next();
  const outcome = identityOutcomeOf(c.req.raw);
  if (outcome === undefined) return;
  c.header(IDENTITY_HEADER, outcome);
  if (outcome === 'unverified' && !operatorHinted) {
    operatorHinted = true;
    console.warn(
      JSON.stringify({
        hint: 'identity_unverified',
        message:
          'A client request named a customer without a valid identity signature, so it was judged as an anonymous visitor ' +
          `(answered with ${IDENTITY_HEADER}: unverified). Sign the claim in your backend (X-Vouchsafe-Identity-Signature), ` +
          'or set IDENTITY_VERIFICATION=off to believe unsigned claims as Voucherify does. See docs/identity.md and docs/moving-from-voucherify.md.',
      }),
    );
  }
};
