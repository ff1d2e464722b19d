import { z } from 'zod';

/** `<expiry>.<hex HMAC-SHA256>` (shared/identity.ts signClaim), or a few of them comma-separated. */
export const identitySignatureSchema = z
  .string()
  .max(400)
  .regex(
    /^\s*\d{1,12}\.[0-9a-fA-F]{64}\s*(,\s*\d{1,12}\.[0-9a-fA-F]{64}\s*)*$/,
    'must be <expiry>.<64 hex characters> (docs/identity.md, "Identity verification"), or several comma-separated',
  );

/**
 * What a client request may carry besides its route's own schema: the signature of its identity
 * (a JSON body's field or the X-Vouchsafe-Identity-Signature header; never a URL), and on events the SDK's identity hash.
 */
export const clientIdentitySchema = z.object({
  identity_signature: identitySignatureSchema.optional(),
  identity_hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)')
    .optional(),
});
export type ClientIdentityInput = z.output<typeof clientIdentitySchema>;
