// What `npm start` says about the demo's settings before it serves them. Kept apart from start.js
// so a test can check it without starting a server.

/** The same words the worker logs (worker/src/routes/demo.ts PUBLIC_SIGNIN_WARNING). */
export const PUBLIC_SIGNIN_WARNING =
  'DEMO_PUBLIC_SIGNIN=on: the demo sign-in is open on every host, so ANYONE CAN SIGN IN AS ANY CUSTOMER (no password) and get a valid identity signature. Never on a shop: unset DEMO_PUBLIC_SIGNIN (or DEMO).';

/** The warnings for these .dev.vars (an empty list when there is nothing to say). */
export function demoWarnings(vars) {
  const warnings = [];
  if (vars.DEMO === 'on' && !vars.IDENTITY_SECRET)
    warnings.push('.dev.vars has no IDENTITY_SECRET: the demo cannot sign shoppers in (see .dev.vars.example)');
  if (vars.DEMO === 'on' && vars.DEMO_PUBLIC_SIGNIN === 'on') warnings.push(`WARNING: ${PUBLIC_SIGNIN_WARNING}`);
  return warnings;
}
