import { describe, expect, it } from 'vitest';
import { call } from './helpers';

describe('GET /health', () => {
  it('answers ok without auth and carries a request id', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('X-Request-Id')).toMatch(/^v-[0-9a-f]{18}$/);
  });
});
