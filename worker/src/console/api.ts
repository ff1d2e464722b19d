/**
 * @module The console's only way to data: our own public API, called in-process with the server
 * key (as a shop's backend would over HTTP). The console can therefore do nothing the API cannot,
 * and every refusal reaches the page as the API's own error object.
 */
import type { Context } from 'hono';
import { BOOKMARK_HEADER } from '../../../shared/consistency';
import type { AppBindings, Env } from '../env';

export type ApiFetch = (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;

/** The Voucherify error object (worker/src/errors.ts), as far as a page shows it. */
export interface ApiProblem {
  code: number;
  key?: string;
  message?: string;
  details?: string;
  request_id?: string;
}

export type ApiResult<T> = { ok: true; status: number; body: T } | { ok: false; status: number; error: ApiProblem };

export class ConsoleApi {
  /** The bookmark of this request's last write: reads after it see it, whichever replica serves them. */
  private bookmark: string | null = null;

  constructor(
    private readonly fetcher: ApiFetch,
    private readonly c: Context<AppBindings>,
  ) {}

  /** A JSON call; `body` undefined sends none. */
  call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    return this.send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), { 'Content-Type': 'application/json' });
  }

  get<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<ApiResult<T>> {
    return this.call<T>('POST', path, body);
  }

  /** Passes a body through as it streams in (the CSV upload), with its own Content-Type. */
  forward<T>(method: string, path: string, body: ReadableStream | null, contentType: string): Promise<ApiResult<T>> {
    return this.send<T>(method, path, body, { 'Content-Type': contentType });
  }

  private async send<T>(
    method: string,
    path: string,
    body: BodyInit | undefined | null,
    headers: Record<string, string>,
  ): Promise<ApiResult<T>> {
    const { env } = this.c;
    const request = new Request(new URL(path, this.c.req.url), {
      method,
      headers: {
        ...headers,
        'X-App-Id': env.APP_ID,
        'X-App-Token': env.APP_TOKEN,
        ...(this.bookmark ? { [BOOKMARK_HEADER]: this.bookmark } : {}),
      },
      body: body ?? undefined,
      // A streamed body (the upload) must be sent half-duplex.
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
    const res = await this.fetcher(request, env, this.c.executionCtx);
    this.bookmark = res.headers.get(BOOKMARK_HEADER) ?? this.bookmark;
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (res.ok) return { ok: true, status: res.status, body: parsed as T };
    const error = (parsed && typeof parsed === 'object' ? parsed : {}) as ApiProblem;
    return { ok: false, status: res.status, error: { ...error, code: res.status } };
  }
}

/** One line for a person: the API's message and details, with the key and request id to quote. */
export function describeProblem(error: ApiProblem): { text: string; reference: string } {
  const text = [error.message, error.details].filter(Boolean).join(': ') || `The API answered ${error.code}.`;
  const reference = [error.key, error.request_id].filter(Boolean).join(' · ');
  return { text, reference };
}
