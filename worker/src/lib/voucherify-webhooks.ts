// Voucherify's webhook signature, with Web Crypto. Voucherify's docs (voucherifyio/voucherify-openapi
// documentation/api-reference/introduction-to-webhooks.mdx, "Authentication"): each webhook carries
// `x-voucherify-signature`, the hex HMAC-SHA256 of the payload keyed with the secret as the
// receiver holds it (the Java example's `"secretKey".getBytes(UTF_8)`, the Node SDK's
// `crypto.createHmac('sha256', secretKey)`): the secret's own UTF-8 bytes, whole, prefix included.
// Test receivers verify it with their own HMAC, as those docs tell, not with this code.

/** The header a `voucherify`-format delivery carries its signature in. */
export const VOUCHERIFY_SIGNATURE_HEADER = 'x-voucherify-signature';

const hex = (bytes: ArrayBuffer): string => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Lowercase hex HMAC-SHA256 of `body` keyed with the UTF-8 bytes of `secret`. */
export async function voucherifySignature(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await crypto.subtle.sign('HMAC', key, encoder.encode(body)));
}
