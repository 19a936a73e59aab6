import type { Command } from '../command.js';
import { predictCommand } from './predict.js';
import { embedCommand } from './embed.js';
import { convertCommand } from './convert.js';
import { evalCommand } from './eval.js';
import { preprocessCommand } from './preprocess.js';
import { trainCommand } from './train.js';
import { benchCommand } from './bench.js';

/** Every subcommand, in the order `vit --help` lists them. */
export const COMMANDS: Command[] = [
  predictCommand,
  embedCommand,
  convertCommand,
  preprocessCommand,
  trainCommand,
  evalCommand,
  benchCommand,
];
