// `vit train --recipe`: a JSON file that holds a whole run, architecture and
// training settings:
//
//   { "description": "...",
//     "model": { ...a config as --config reads it... } or "a preset | a config.json",
//     "train": { "data": "fashion-mnist", "epochs": 32, "batchSize": 128, ... } }
//
// "train" keys are the flag names in camelCase (--batch-size is batchSize,
// --no-augment is noAugment: true). Relative paths (data, weights, a model
// file) are relative to the recipe file. A bare name is a file of the
// @vitkit/training package's recipes/ folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isPresetName, VitkitError, type ViTConfigInput } from '@vitkit/core';
import { configInputFromJson } from '@vitkit/weights';

/** A recipe file that cannot be used: not found, not JSON, an unknown key or a bad value. */
export class RecipeError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_RECIPE', reason, hint);
  }
}

/** A recipe as read from its file; the "train" values are checked against the flag table by the caller. */
export interface Recipe {
  /** How errors name it: the name given, or the path. */
  name: string;
  /** The file, absolute. */
  path: string;
  description: string | undefined;
  /** An inline architecture ("model" as an object). */
  model: ViTConfigInput | undefined;
  /** "model" as a preset name or a config.json (resolved against the recipe's folder). */
  config: string | undefined;
  /** The "train" section, unchecked. */
  train: Record<string, unknown>;
}

const TOP_KEYS = ['description', 'model', 'train'];

/** The recipes/ folder of the installed @vitkit/training package. */
export function recipesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.resolve('@vitkit/training')));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'recipes');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(path: string, name: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RecipeError(`recipe ${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The names of the bundled recipes (files with "model" or "train"; the others are architecture configs). */
export function recipeNames(): string[] {
  const dir = recipesDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => {
      const json = readJson(join(dir, f), f);
      return isObject(json) && ('train' in json || 'model' in json);
    })
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A path given in a recipe, relative to the recipe's folder. */
export function recipePath(recipe: Pick<Recipe, 'path'>, p: string): string {
  return isAbsolute(p) ? p : resolve(dirname(recipe.path), p);
}

/** Finds and reads a recipe: a bundled name, or a path to a .json file. */
export function readRecipe(spec: string): Recipe {
  const isFile = spec.endsWith('.json') || /[/\\]/.test(spec);
  let path: string;
  if (isFile) {
    path = resolve(spec);
    if (!existsSync(path)) throw new RecipeError(`recipe file ${spec} not found`);
  } else {
    const names = recipeNames();
    if (!names.includes(spec)) throw new RecipeError(`unknown recipe "${spec}"`, `use one of: ${names.join(', ')}; or a path to a .json file`);
    path = join(recipesDir(), `${spec}.json`);
  }
  const json = readJson(path, spec);
  if (!isObject(json)) throw new RecipeError(`recipe ${spec} must be a JSON object with "model" and "train"`);
  const unknown = Object.keys(json).find((k) => !TOP_KEYS.includes(k));
  if (unknown !== undefined) {
    throw new RecipeError(`recipe ${spec}: unknown key "${unknown}"`, `a recipe holds ${TOP_KEYS.map((k) => `"${k}"`).join(', ')}; an architecture alone goes to --config`);
  }
  const { description, model, train = {} } = json;
  if (description !== undefined && typeof description !== 'string') throw new RecipeError(`recipe ${spec}: "description" must be a string`);
  if (!isObject(train)) throw new RecipeError(`recipe ${spec}: "train" must be an object of flag values`);
  const recipe: Recipe = { name: spec, path, description, model: undefined, config: undefined, train };
  if (typeof model === 'string') {
    recipe.config = isPresetName(model) ? model : recipePath(recipe, model);
  } else if (model !== undefined) {
    const input = isObject(model) ? configInputFromJson(model) : undefined;
    if (!input) throw new RecipeError(`recipe ${spec}: "model" is not a ViT config vitkit understands`, 'give the fields of a config.json (as --config reads it), a preset name or a config.json path');
    recipe.model = input;
  }
  return recipe;
}
