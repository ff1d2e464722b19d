/** Stored timestamps are epoch milliseconds; the wire carries ISO-8601 UTC with milliseconds. */
export const toIso = (ms: number): string => new Date(ms).toISOString();

/** Parses an ISO-8601 date or date-time; null when it is not one. */
export function parseIsoMs(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
