import type { Command } from '../command.js';
import { predictCommand } from './predict.js';
import { convertCommand } from './convert.js';
import { evalCommand } from './eval.js';
import { preprocessCommand } from './preprocess.js';
import { trainCommand } from './train.js';
import { benchCommand } from './bench.js';

/** Every subcommand, in the order `vit --help` lists them. */
export const COMMANDS: Command[] = [
  predictCommand,
  convertCommand,
  preprocessCommand,
  trainCommand,
  evalCommand,
  benchCommand,
];
