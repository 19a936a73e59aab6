#!/usr/bin/env node
// The `vit` command line: dispatches to one subcommand per file in commands/.
// User mistakes (VitkitError) print one line and exit 1; a stack trace is
// shown only with --verbose.
import { parseArgs } from 'node:util';
import { isVitkitError, type VitkitError } from '@vitkit/core';
import type { Command } from './command.js';
import { UsageError } from './errors.js';
import { printable } from './flags.js';
import { COMMANDS } from './commands/index.js';

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: vit <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `vit <command> --help` for the options of one command. Add --verbose to see stack traces.',
  ].join('\n');
}

/** A negative number as a flag value (`-1`, `-0.5`, `-1e-3`): not a flag. */
const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Joins `--flag -1` into `--flag=-1` for flags that take a value, so that a
 * negative number reaches the flag's own check (parseArgs calls it ambiguous).
 */
export function joinNegativeValues(args: string[], options: Command['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i += 1;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Hints of library errors that name library options (the `headMode` of
 * loadCheckpoint, the `maxPixels` of decodeImage), said in the CLI's terms.
 */
const CLI_HINTS: [RegExp, string][] = [
  [/headMode/, 'check --config against the checkpoint; to fine-tune with another class count, vit train --weights ... --num-classes N starts a fresh head'],
  [/maxPixels/, 'downscale the image first'],
];

/** What the CLI prints for a VitkitError: its reason, and its hint in the CLI's terms. */
export function cliMessage(e: VitkitError): string {
  const hint = e.hint === undefined ? undefined : (CLI_HINTS.find(([library]) => library.test(e.hint!))?.[1] ?? e.hint);
  return hint === undefined ? e.reason : `${e.reason} — ${hint}`;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  const name = args[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 1 : 0;
  }
  const command: Command | undefined = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command "${name}"`, `use one of: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const rest = args.slice(1);
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(command.usage);
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: joinNegativeValues(rest, command.options), options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message.split('\n')[0]!.replace(/^.*?: /, '') : String(e), `run \`vit ${command.name} --help\` for usage`);
    }
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (e) {
    if (verbose) console.error(e);
    if (isVitkitError(e)) {
      console.error(`vit ${printable(name)}: error: ${printable(cliMessage(e))}`);
    } else {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      console.error(`vit ${printable(name)}: unexpected error: ${printable(message ?? '')}${verbose ? '' : ' (run with --verbose for details)'}`);
    }
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
