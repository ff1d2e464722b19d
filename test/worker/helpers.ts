import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from '../../worker/src/index';
import type { Env } from '../../worker/src/env';
import { signIdentityHash } from '../../shared/identity';
import { TEST_ENV } from '../test-env';

export const SERVER_HEADERS = { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN };
export const ALLOWED_ORIGIN = 'https://shop.example';
export const CLIENT_HEADERS = {
  'X-Client-Application-Id': TEST_ENV.CLIENT_APP_ID,
  'X-Client-Token': TEST_ENV.CLIENT_TOKEN,
  Origin: ALLOWED_ORIGIN,
};

/**
 * Sends a request to the worker's fetch handler (its default export) with the test bindings, or
 * some of them replaced (`{ IDENTITY_VERIFICATION: 'off' }`). The handler is called in this isolate rather than through the pool's `exports.default` loopback,
 * which slows down by two orders of magnitude after a few hundred calls in one file.
 */
export async function call(path: string, init: RequestInit = {}, bindings: Partial<Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://vouchsafe.test${path}`, init), { ...env, ...bindings } as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A server-side call with the server key and, when given, a JSON body. */
export function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return call(path, {
    method,
    headers: { ...SERVER_HEADERS, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

export async function json<T = any>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** The signature a shop's backend would give its page for an identity hash (shared/identity.ts). */
export const signHash = (identityHash: string): Promise<string> => signIdentityHash(TEST_ENV.IDENTITY_SECRET, identityHash);

/** Bytes of text (UTF-8) and raw byte values, concatenated: bodies and files in any encoding. */
export const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};
