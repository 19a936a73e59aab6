import { ConfigError } from '@vitkit/core';
import { env } from '../node.js';

/** A Hugging Face Hub reference: `hf://org/repo[@revision][/path/in/repo]`. */
export interface HubRef {
  repo: string;
  revision: string;
  /** A file inside the repo, when the reference names one. */
  file: string | undefined;
}

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function isHubRef(source: string): boolean {
  return source.startsWith('hf://');
}

/** Parses `hf://org/repo[@revision][/file]`; the revision may be URL-encoded (refs%2Fpr%2F1). */
export function parseHubRef(source: string): HubRef {
  const rest = source.slice('hf://'.length);
  const parts = rest.split('/');
  const org = parts[0] ?? '';
  const [repoName = '', rev] = (parts[1] ?? '').split('@', 2);
  const file = parts.length > 2 ? parts.slice(2).join('/') : undefined;
  const revision = rev === undefined ? 'main' : safeDecode(rev);
  if (!NAME.test(org) || !NAME.test(repoName) || revision === '' || revision.split('/').includes('..') || file === '' || (file !== undefined && !isSafeRelativePath(file))) {
    throw new ConfigError(`"${source}" is not a valid Hub reference`, 'write hf://org/repo, hf://org/repo@revision or hf://org/repo@revision/file.safetensors');
  }
  return { repo: `${org}/${repoName}`, revision, file };
}

/** The Hub's base URL: option, else $VITKIT_HF_ENDPOINT, else huggingface.co. */
export function hubEndpoint(option?: string): string {
  return (option ?? env('VITKIT_HF_ENDPOINT') ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
}

/** `<endpoint>/<org>/<repo>/resolve/<revision>/` — append a file name. */
export function hubBaseUrl(ref: HubRef, endpoint: string): string {
  return `${endpoint}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/`;
}

/** decodeURIComponent that leaves malformed escapes as they are instead of throwing a URIError. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A relative path with no empty, `.` or `..` segments, no backslashes, not absolute. */
export function isSafeRelativePath(p: string): boolean {
  return p.length > 0 && !p.startsWith('/') && !p.includes('\\') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
