/** Where the e2e tests find the server, the browser and their output. */
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** 127.0.0.1:8787 is an allowed origin in .dev.vars.example (ALLOWED_ORIGINS). */
export const BASE_URL = 'http://127.0.0.1:8787';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Screenshots and the server log (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
