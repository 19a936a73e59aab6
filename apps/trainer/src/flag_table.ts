// A command's flags as one declarative table: each entry gives the flag's
// parser, default and help, and the table yields the parseArgs options, the
// usage lines and the typed values. Keys are camelCase; the flag is the key
// in kebab-case (`batchSize` is --batch-size).
import type { ParseArgsConfig } from 'node:util';
import type { Flags } from './command.js';
import { UsageError } from './errors.js';

/**
 * Turns a raw value into the flag's value, or throws a one-line UsageError
 * that starts with `label` (`--batch-size`, or a key of a file that holds
 * flag values). Raw values are strings from the command line; files may hold
 * JSON numbers and booleans.
 */
export type Parser<T> = (raw: unknown, label: string) => T;

export interface FlagSpec<T> {
  /** The value's placeholder in the usage text (N, FILE); absent for a switch (a boolean flag that takes no value). */
  arg?: string;
  parse: Parser<T>;
  default?: T;
  /** The default in words, for the usage text (`(default: ...)`), when it is not a plain value or is found at run time. */
  shownDefault?: string;
  /** Usage text; `\n` continues on the next line. The default is appended. */
  help: string;
  /** Heading the flag is listed under. */
  group: string;
}

export type FlagTable = Record<string, FlagSpec<any>>;

/** The typed values of a table: flags with a default always have one. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K] extends { default: unknown } ? ReturnType<T[K]['parse']> : ReturnType<T[K]['parse']> | undefined;
};

/** The flag name of a key: `batchSize` -> `batch-size`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The options for node:util parseArgs. */
export function parseArgsOptions(table: FlagTable): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries(table).map(([key, spec]) => [flagName(key), { type: spec.arg === undefined ? 'boolean' : 'string' }]));
}

/** The flags section of a usage text: one heading per group, in table order. */
export function usageLines(table: FlagTable): string {
  const column = 26;
  const lines: string[] = [];
  let group: string | undefined;
  for (const [key, spec] of Object.entries(table)) {
    if (spec.group !== group) lines.push((group = spec.group));
    const shown = spec.shownDefault !== undefined ? `(default: ${spec.shownDefault})` : spec.default !== undefined ? `(default ${String(spec.default)})` : '';
    const text = (shown && !spec.help.endsWith('\n') ? `${spec.help} ${shown}` : `${spec.help}${shown}`).split('\n');
    const head = `  --${flagName(key)}${spec.arg === undefined ? '' : ` ${spec.arg}`}`;
    if (head.length < column - 1) lines.push(`${head.padEnd(column)}${text.shift()!}`);
    else lines.push(head);
    lines.push(...text.map((t) => `${' '.repeat(column)}${t}`));
  }
  return lines.join('\n');
}

/** The values given on the command line, parsed, by key (absent when not given). */
export function givenValues<T extends FlagTable>(table: T, flags: Flags): Partial<FlagValues<T>> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    const raw = flags[flagName(key)];
    if (raw !== undefined) out[key] = spec.parse(raw, `--${flagName(key)}`);
  }
  return out as Partial<FlagValues<T>>;
}

/** Every default of a table, by key. */
export function defaultsOf<T extends FlagTable>(table: T): { [K in keyof T as T[K] extends { default: unknown } ? K : never]: ReturnType<T[K]['parse']> } {
  return Object.fromEntries(Object.entries(table).filter(([, s]) => s.default !== undefined).map(([k, s]) => [k, s.default])) as never;
}

// Parsers. Each accepts the command line's strings and the matching JSON type.

/** A string. */
export const text: Parser<string> = (raw, label) => {
  if (typeof raw !== 'string') throw new UsageError(`${label} needs a string value, got ${JSON.stringify(raw)}`);
  return raw;
};

/** A switch: present on the command line, or `true` / `false` in a file. */
export const toggle: Parser<boolean> = (raw, label) => {
  if (typeof raw !== 'boolean') throw new UsageError(`${label} must be true or false, got ${JSON.stringify(raw)}`);
  return raw;
};

/** A finite number (an integer with `integer`) within [min, max]. */
export function number(options: { integer?: boolean; min?: number; max?: number } = {}): Parser<number> {
  return (raw, label) => {
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(v) || (options.integer && !Number.isInteger(v))) {
      throw new UsageError(`${label} must be ${options.integer ? 'an integer' : 'a number'}, got ${typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw)}`);
    }
    if (options.min !== undefined && v < options.min) throw new UsageError(`${label} must be >= ${options.min}, got ${v}`);
    if (options.max !== undefined && v > options.max) throw new UsageError(`${label} must be <= ${options.max}, got ${v}`);
    return v;
  };
}

/** One of a fixed set of strings. */
export function oneOf<C extends string>(choices: readonly C[]): Parser<C> {
  return (raw, label) => {
    if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`${label} must be one of ${choices.join(', ')}, got ${typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw)}`);
    }
    return raw as C;
  };
}

/** A parser with an extra check after the first: `check` throws (with the label) or returns nothing. */
export function checked<T>(parse: Parser<T>, check: (value: T, label: string) => void): Parser<T> {
  return (raw, label) => {
    const v = parse(raw, label);
    check(v, label);
    return v;
  };
}
