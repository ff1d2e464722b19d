import { exports } from 'cloudflare:workers';
import { TEST_ENV } from '../test-env';

export const SERVER_HEADERS = { 'X-App-Id': TEST_ENV.APP_ID, 'X-App-Token': TEST_ENV.APP_TOKEN };
export const ALLOWED_ORIGIN = 'https://shop.example';
export const CLIENT_HEADERS = {
  'X-Client-Application-Id': TEST_ENV.CLIENT_APP_ID,
  'X-Client-Token': TEST_ENV.CLIENT_TOKEN,
  Origin: ALLOWED_ORIGIN,
};

/** Sends a request to the worker's default export, as the network would. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`https://vouchsafe.test${path}`, init));
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
