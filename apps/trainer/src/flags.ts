import { UsageError } from './errors.js';
import type { Flags } from './command.js';

/** Typed readers for parsed flags, with one-line errors for bad values. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function requiredString(flags: Flags, name: string): string {
  const v = stringFlag(flags, name);
  if (v === undefined) throw new UsageError(`--${name} is required`);
  return v;
}

export function numberFlag(flags: Flags, name: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (options.integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${options.integer ? 'an integer' : 'a number'}, got "${raw}"`);
  }
  if (options.min !== undefined && v < options.min) throw new UsageError(`--${name} must be >= ${options.min}, got ${v}`);
  if (options.max !== undefined && v > options.max) throw new UsageError(`--${name} must be <= ${options.max}, got ${v}`);
  return v;
}

export function choiceFlag<T extends string>(flags: Flags, name: string, choices: readonly T[]): T | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

export function booleanFlag(flags: Flags, name: string): boolean {
  return flags[name] === true;
}

/**
 * `text` safe to print on a terminal: control characters (ANSI escapes in a
 * file name, newlines) are shown as \\uXXXX escapes instead of acting.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
