import { z } from 'zod';

/** HMAC-SHA256 in hex (shared/identity.ts signIdentityHash). */
export const identitySignatureSchema = z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (HMAC-SHA256)');

/**
 * What a client request may carry besides its route's own schema: the signature of its identity
 * (query, body or X-Vouchsafe-Identity-Signature), and on events the SDK's identity hash.
 */
export const clientIdentitySchema = z.object({
  identity_signature: identitySignatureSchema.optional(),
  identity_hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)').optional(),
});
export type ClientIdentityInput = z.output<typeof clientIdentitySchema>;
