// The Standard Webhooks signature scheme (https://www.standardwebhooks.com, spec/standard-webhooks.md
// "Signature scheme" and "Webhook headers"), with Web Crypto: no dependency in the worker. Test
// receivers verify it with the specification's own library (standardwebhooks), not with this code.

const SECRET_PREFIX = 'whsec_';
/** The spec asks for at least 24 random bytes; 32 is HMAC-SHA256's block-sized key strength. */
const SECRET_BYTES = 32;

const toBase64 = (bytes: Uint8Array): string => {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
};

const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** A new symmetric secret in the spec's serialisation: `whsec_` + base64 of random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** What GET and list show of a secret: its prefix and last four characters. */
export const maskSecret = (secret: string): string => `${SECRET_PREFIX}…${secret.slice(-4)}`;

/**
 * `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the secret's base64-decoded
 * bytes, for each secret, space-separated: a receiver holding either secret of a rotation verifies.
 */
export async function signatureHeader(secrets: string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const content = new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`);
  const signatures = await Promise.all(
    secrets.map(async (secret) => {
      const raw = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
      const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
      return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, content)))}`;
    }),
  );
  return signatures.join(' ');
}
