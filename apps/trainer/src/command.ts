import type { ParseArgsConfig } from 'node:util';

/** Parsed flags: strings, booleans, or arrays of them for `multiple` options. */
export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** One `vit <name>` subcommand. Each lives in its own file under commands/. */
export interface Command {
  name: string;
  /** One line for `vit --help`. */
  summary: string;
  /** Full usage text for `vit <name> --help`. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positional arguments are accepted. */
  allowPositionals?: boolean;
  /** Runs the command; returns the process exit code. Throw a VitkitError (or UsageError) for user mistakes. */
  run(flags: Flags, positionals: string[]): Promise<number>;
}
