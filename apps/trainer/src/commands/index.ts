import type { Command } from '../command.js';

/** Every subcommand, in the order `vit --help` lists them. */
export const COMMANDS: Command[] = [];
