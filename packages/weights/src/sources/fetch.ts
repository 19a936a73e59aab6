import { FetchError } from '../errors.js';
import { env } from '../node.js';
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
  /**
   * The most bytes a download may bring when the server declares no size
   * (and the cap on a declared one). Default 4 GiB, or $VITKIT_MAX_DOWNLOAD_BYTES.
   */
  maxBytes?: number;
  /** Abort when no bytes arrive for this long, in milliseconds (default 30000, or $VITKIT_IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

/** 4 GiB: more than any single ViT checkpoint file. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 ** 32;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

function numberFromEnv(name: string): number | undefined {
  const v = env(name);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
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

/** Response headers that identify what was downloaded (for cache validation). */
export interface FetchedMeta {
  /** The ETag (X-Linked-Etag for Hub LFS files: their sha256), without quotes or W/. */
  etag: string | undefined;
  /** X-Repo-Commit: the Hub commit the file was resolved at. */
  commit: string | undefined;
}

export type FetchResult = { status: 'ok'; bytes: Uint8Array; meta: FetchedMeta } | { status: 'missing' };

/** ETag without W/ and quotes. */
export function cleanEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  return value.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

export function metaOf(headers: Headers): FetchedMeta {
  return { etag: cleanEtag(headers.get('x-linked-etag') ?? headers.get('etag')), commit: headers.get('x-repo-commit') ?? undefined };
}

/** An abort signal that fires after `ms` without a call to `touch`, combined with the caller's signal. */
function idleTimer(ms: number, outer: AbortSignal | undefined): { signal: AbortSignal; touch(): void; stop(): void; fired(): boolean } {
  const controller = new AbortController();
  let fired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      controller.abort(new Error(`no data for ${ms / 1000} s`));
    }, ms);
  };
  touch();
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  return { signal, touch, stop: () => clearTimeout(timer), fired: () => fired };
}

/**
 * Downloads a URL into memory, reporting progress per chunk. With
 * `optional`, a 404 answers { status: 'missing' } instead of throwing.
 * Bounded: a declared Content-Length is the exact size (more or fewer bytes
 * are an error), no size means at most `maxBytes`, and a server that sends
 * nothing for `idleTimeoutMs` is given up on. The body is asked for
 * uncompressed; if a server compresses anyway, the decoded bytes are counted
 * against `maxBytes` as they arrive.
 */
export async function fetchBytes(url: string, options: FetchOptions & { optional?: boolean } = {}): Promise<FetchResult> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const file = options.file ?? safeDecode(url.split(/[?#]/)[0]!.split('/').pop() ?? url);
  const maxBytes = options.maxBytes ?? numberFromEnv('VITKIT_MAX_DOWNLOAD_BYTES') ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  const idleMs = options.idleTimeoutMs ?? numberFromEnv('VITKIT_IDLE_TIMEOUT_MS') ?? DEFAULT_IDLE_TIMEOUT_MS;
  const idle = idleTimer(idleMs, options.signal);
  const stalled = () => new FetchError(url, `download of ${url} stalled: no data for ${idleMs / 1000} s`, 'retry later; raise idleTimeoutMs (VITKIT_IDLE_TIMEOUT_MS) for a slow link');
  try {
    let res: Response;
    try {
      res = await doFetch(url, { headers: { 'accept-encoding': 'identity', ...options.headers }, signal: idle.signal, redirect: 'follow' });
    } catch (e) {
      if (idle.fired()) throw stalled();
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
    if (total !== undefined && total > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new FetchError(url, `${url} is ${total} bytes, more than the download limit of ${maxBytes}`, 'raise maxBytes (VITKIT_MAX_DOWNLOAD_BYTES) if you expect a file this large');
    }
    const limit = total ?? maxBytes;
    options.onProgress?.({ file, loaded: 0, total });
    try {
      const bytes = await readBody(res, total, limit, idle.touch, (loaded) => options.onProgress?.({ file, loaded, total }));
      if (bytes === undefined) {
        throw new FetchError(
          url,
          total !== undefined ? `${url} sent more than the ${total} bytes it declared` : `${url} sent more than the download limit of ${maxBytes} bytes${encoded ? ' once decompressed' : ''}`,
          total !== undefined ? 'the server is misbehaving: retry later' : 'raise maxBytes (VITKIT_MAX_DOWNLOAD_BYTES) if you expect a file this large',
        );
      }
      if (total !== undefined && bytes.length !== total) {
        throw new FetchError(url, `download of ${url} ended after ${bytes.length} of ${total} bytes`, 'retry the download');
      }
      return { status: 'ok', bytes, meta: metaOf(res.headers) };
    } catch (e) {
      if (e instanceof FetchError) throw e;
      if (idle.fired()) throw stalled();
      throw new FetchError(url, `download of ${url} broke off (${firstLine(e)})`, 'retry the download', { cause: e });
    }
  } finally {
    idle.stop();
  }
}

/** Reads a body of at most `limit` bytes; undefined when the server sends more (the rest is not read). */
async function readBody(res: Response, total: number | undefined, limit: number, touch: () => void, progress: (loaded: number) => void): Promise<Uint8Array | undefined> {
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > limit) return undefined;
    progress(bytes.length);
    return bytes;
  }
  const reader = res.body.getReader();
  const buffer = total !== undefined ? new Uint8Array(total) : undefined;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    touch();
    if (loaded + value.length > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
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
