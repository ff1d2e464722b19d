import { describe, expect, it } from 'vitest';
import { demoWarnings, PUBLIC_SIGNIN_WARNING } from '../../scripts/demo-warning.js';
import { PUBLIC_SIGNIN_WARNING as WORKER_WARNING } from '../../worker/src/routes/demo';

// `npm start` says what the worker says when the demo's passwordless sign-in is opened to every host.
describe('npm start warns about the demo sign-in', () => {
  it("prints the worker's warning when DEMO_PUBLIC_SIGNIN=on", () => {
    expect(PUBLIC_SIGNIN_WARNING).toBe(WORKER_WARNING);
    expect(demoWarnings({ DEMO: 'on', IDENTITY_SECRET: 's', DEMO_PUBLIC_SIGNIN: 'on' })).toEqual([`WARNING: ${WORKER_WARNING}`]);
  });

  it('says nothing of it when the sign-in stays on loopback hosts, or the demo is off', () => {
    expect(demoWarnings({ DEMO: 'on', IDENTITY_SECRET: 's' })).toEqual([]);
    expect(demoWarnings({ DEMO: 'off', IDENTITY_SECRET: 's', DEMO_PUBLIC_SIGNIN: 'on' })).toEqual([]);
  });
});
