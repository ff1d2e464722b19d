/** Where the e2e tests find the server, the browser and their output. */
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The server's port: E2E_PORT, default 8787 (npm start's). Another port keeps the run apart from a
 * server someone else has running; npm start allows its own origin on any port.
 */
export const PORT = Number(process.env.E2E_PORT ?? 8787);
export const BASE_URL = `http://127.0.0.1:${PORT}`;
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Screenshots and the server log (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
