import { FetchError } from '../errors.js';
import { safeDecode } from './hub.js';

/** Download progress of one file. `total` is undefined when the server does not say. */
export interface Progress {
  file: string;
  loaded: number;
  total: number | undefined;
}
export type ProgressCallback = (progress: Progress) => void;

export interface FetchOptions {
  onProgress?: ProgressCallback;
  headers?: Record<string, string>;
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
  /** Name reported in progress events (default: the URL's last path segment). */
  file?: string;
}

function firstLine(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const base = e instanceof Error ? e.message.split('\n')[0]! : String(e);
  return cause?.code ? `${base}: ${cause.code}` : cause?.message ? `${base}: ${cause.message}` : base;
}

/** Why a status failed, and what to do about it. */
function statusHint(status: number): string {
  if (status === 401 || status === 403) return 'the repository may be private or gated: set HF_TOKEN (or pass token) with access to it';
  if (status === 404) return 'check the repository, revision and file name';
  if (status === 429) return 'rate limited: wait and retry, or use the cache';
  return 'retry later, or use a cached copy (offline mode)';
}

export type FetchResult = { status: 'ok'; bytes: Uint8Array } | { status: 'missing' };

/**
 * Downloads a URL into memory, reporting progress per chunk. With
 * `optional`, a 404 answers { status: 'missing' } instead of throwing.
 * When the size is known the body goes straight into one buffer.
 */
export async function fetchBytes(url: string, options: FetchOptions & { optional?: boolean } = {}): Promise<FetchResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const file = options.file ?? safeDecode(url.split(/[?#]/)[0]!.split('/').pop() ?? url);
  let res: Response;
  try {
    res = await doFetch(url, { headers: options.headers, signal: options.signal, redirect: 'follow' });
  } catch (e) {
    throw new FetchError(url, `could not download ${url} (${firstLine(e)})`, 'check the URL and your network, or use a cached copy (VITKIT_OFFLINE=1)', { cause: e });
  }
  if (res.status === 404 && options.optional) {
    await res.body?.cancel().catch(() => undefined);
    return { status: 'missing' };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new FetchError(url, `download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trim(), statusHint(res.status), { status: res.status });
  }
  const lengthHeader = res.headers.get('content-length');
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const declared = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  const total = encoded ? undefined : declared;
  options.onProgress?.({ file, loaded: 0, total });
  try {
    const bytes = await readBody(res, total, (loaded) => options.onProgress?.({ file, loaded, total }));
    if (total !== undefined && bytes.length !== total) {
      throw new FetchError(url, `download of ${url} ended after ${bytes.length} of ${total} bytes`, 'retry the download');
    }
    return { status: 'ok', bytes };
  } catch (e) {
    if (e instanceof FetchError) throw e;
    throw new FetchError(url, `download of ${url} broke off (${firstLine(e)})`, 'retry the download', { cause: e });
  }
}

async function readBody(res: Response, total: number | undefined, progress: (loaded: number) => void): Promise<Uint8Array> {
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    progress(bytes.length);
    return bytes;
  }
  const reader = res.body.getReader();
  let buffer = total !== undefined ? new Uint8Array(total) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (buffer && loaded + value.length > buffer.length) {
      // The server sent more than it declared: fall back to collecting chunks.
      chunks.push(buffer.subarray(0, loaded));
      buffer = undefined;
    }
    if (buffer) buffer.set(value, loaded);
    else chunks.push(value);
    loaded += value.length;
    progress(loaded);
  }
  if (buffer) return buffer.subarray(0, loaded);
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
