/**
 * @module The slice of the browser the SDK touches, typed here rather than through the DOM lib:
 * the repo type-checks with Workers types, and adding `lib.dom` to that program breaks the worker.
 */

/** The SDK's own `<script>` element, as `document.currentScript` gives it (an SVG one has no src). */
export interface ScriptTag {
  readonly src?: string;
  getAttribute(name: string): string | null;
}

export interface Browser {
  document?: { cookie: string; currentScript?: ScriptTag | null };
  location?: { protocol: string; hostname: string };
  Vouchsafe?: unknown;
}

export const browser = globalThis as unknown as Browser;
