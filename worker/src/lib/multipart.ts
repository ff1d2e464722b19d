/**
 * One file field of a multipart/form-data body (RFC 7578), read as the body streams in. The file's
 * bytes come as the chunks they arrived in and every other part is dropped: no FormData copy of
 * the whole body, no File copy of the part, no string. streamMultipartFile hands each chunk on as
 * it arrives (a CSV import keeps none of them); readMultipartFile keeps them all.
 */
import { invalidPayload, requestTooLarge } from '../errors';

export interface UploadedFile {
  /** The file's bytes, in order. */
  chunks: Uint8Array[];
  size: number;
}

const CRLF_CRLF = new Uint8Array([13, 10, 13, 10]);
/** Part headers larger than this are no form a browser or an SDK sends. */
const MAX_HEADER_BYTES = 16 * 1024;

const notMultipart = () => invalidPayload('The request body is not valid multipart/form-data.');

/** The boundary of a multipart/form-data Content-Type, or null for any other type. */
function boundaryOf(contentType: string | null): string | null {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

/** First index of `needle` in `haystack` at or after `from`, or -1. */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0] as number;
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first, from); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && haystack[i + k] === needle[k]) k += 1;
    if (k === needle.length) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Reads `request`'s body and returns the file sent in the form field `field`; null when the body
 * is not multipart/form-data or has no such file (a field without a filename is no file). A body
 * over `maxBytes` is a 413 as soon as it is known (Content-Length, or counting as it streams).
 */
export async function readMultipartFile(request: Request, field: string, maxBytes: number): Promise<UploadedFile | null> {
  class NoFile extends Error {}
  const stream = streamMultipartFile(request, field, maxBytes, () => new NoFile());
  if (!stream) return null;
  const file: UploadedFile = { chunks: [], size: 0 };
  try {
    for await (const bytes of stream) {
      file.chunks.push(bytes);
      file.size += bytes.length;
    }
  } catch (error) {
    if (error instanceof NoFile) return null;
    throw error;
  }
  return file;
}

/**
 * The bytes of the file sent in the form field `field`, as the body streams in: each piece is
 * yielded once and not kept. Null when the body is not multipart/form-data; when the body has no
 * such file, the iteration throws `missing()` at its end. Same limits as readMultipartFile.
 */
export function streamMultipartFile(
  request: Request,
  field: string,
  maxBytes: number,
  missing: () => Error,
): AsyncGenerator<Uint8Array> | null {
  const boundary = boundaryOf(request.headers.get('Content-Type'));
  if (boundary === null || request.body === null) return null;
  return fileBytes(request, request.body, boundary, field, maxBytes, missing);
}

async function* fileBytes(
  request: Request,
  body: ReadableStream<Uint8Array>,
  boundary: string,
  field: string,
  maxBytes: number,
  missing: () => Error,
): AsyncGenerator<Uint8Array> {
  const length = Number(request.headers.get('Content-Length') ?? NaN);
  if (length > maxBytes) throw requestTooLarge(maxBytes);

  const encoder = new TextEncoder();
  // Every delimiter is CRLF "--" boundary; the first may open the body, so the body is read as if
  // a CRLF came before it.
  const delimiter = encoder.encode(`\r\n--${boundary}`);
  let pending: Uint8Array = new Uint8Array([13, 10]);
  // Changed inside step(): the cast keeps TypeScript from narrowing it to its first value.
  let state = 'preamble' as 'preamble' | 'after-delimiter' | 'headers' | 'content' | 'done';
  let keeping = false;
  let found = false;
  let received = 0;
  /** The file's bytes found by the last steps, yielded before the next read. */
  let out: Uint8Array[] = [];

  const take = (bytes: Uint8Array) => {
    if (keeping && bytes.length > 0) out.push(bytes);
  };

  /** Moves through `pending` as far as it can; false when it needs more bytes. */
  const step = (final: boolean): boolean => {
    switch (state) {
      case 'preamble':
      case 'content': {
        const at = indexOfBytes(pending, delimiter);
        if (at === -1) {
          // Keep what could be the start of a delimiter cut by the chunk's end.
          const safe = Math.max(0, pending.length - (delimiter.length - 1));
          if (state === 'content') take(pending.subarray(0, safe));
          pending = pending.subarray(safe);
          if (final) throw notMultipart();
          return false;
        }
        if (state === 'content') take(pending.subarray(0, at));
        pending = pending.subarray(at + delimiter.length);
        keeping = false;
        state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        // "--" closes the body; otherwise optional blanks (RFC 2046 transport padding), then CRLF.
        let i = 0;
        while (pending[i] === 0x20 || pending[i] === 0x09) i += 1;
        if (pending.length < i + 2) {
          if (final) throw notMultipart();
          return false;
        }
        if (pending[0] === 0x2d && pending[1] === 0x2d) {
          state = 'done';
          return false;
        }
        if (pending[i] !== 13 || pending[i + 1] !== 10) throw notMultipart();
        pending = pending.subarray(i + 2);
        state = 'headers';
        return true;
      }
      case 'headers': {
        // The part's headers end at a blank line; a part without headers starts with it.
        const end = pending[0] === 13 && pending[1] === 10 ? -2 : indexOfBytes(pending, CRLF_CRLF);
        if (end === -1) {
          if (pending.length > MAX_HEADER_BYTES || final) throw notMultipart();
          return false;
        }
        const headers = new TextDecoder().decode(pending.subarray(0, Math.max(0, end)));
        pending = pending.subarray(end + 4);
        const disposition = /^content-disposition:\s*form-data\s*;(.*)$/im.exec(headers)?.[1] ?? '';
        const name = /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] ?? /(?:^|;)\s*name=([^;\s]+)/i.exec(disposition)?.[1];
        const isFile = /(?:^|;)\s*filename\*?=/i.test(disposition);
        if (name === field && isFile) {
          if (found) throw invalidPayload(`${field}: send one file, not several`);
          found = true;
          keeping = true;
        }
        state = 'content';
        return true;
      }
      case 'done':
        return false;
    }
  };

  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += value.length;
      if (received > maxBytes) throw requestTooLarge(maxBytes);
      if (state === 'done') continue; // the epilogue is ignored, but still counted
      pending = concat(pending, value);
      while (step(false));
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
    while (step(true));
    finished = true;
    yield* out;
  } finally {
    // Stopped early (an error here, or the reader of the file gave up): the rest is not read.
    if (!finished) await reader.cancel().catch(() => {});
  }
  if (state !== 'done') throw notMultipart();
  if (!found) throw missing();
}
