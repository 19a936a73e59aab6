#!/usr/bin/env node
// The `vit` command line: dispatches to one subcommand per file in commands/.
// User mistakes (VitkitError) print one line and exit 1; a stack trace is
// shown only with --verbose.
import { parseArgs } from 'node:util';
import { isVitkitError } from '@vitkit/core';
import type { Command } from './command.js';
import { UsageError } from './errors.js';
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
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: command.allowPositionals ?? false, strict: true });
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message.split('\n')[0]!.replace(/^.*?: /, '') : String(e), `run \`vit ${command.name} --help\` for usage`);
    }
    return await command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
  } catch (e) {
    if (verbose) console.error(e);
    if (isVitkitError(e)) {
      console.error(`vit ${name}: error: ${e.message}`);
    } else {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      console.error(`vit ${name}: unexpected error: ${message}${verbose ? '' : ' (run with --verbose for details)'}`);
    }
    return 1;
  }
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
