// The flag table of `vit train` and --recipe, without training: merge order,
// the bundled 91% recipe, and one-line errors for bad recipes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { flagName, parseArgsOptions, usageLines } from '../src/flag_table.js';
import { readConfigSpec } from '../src/train/model_setup.js';
import { readTrainOptions, RUN_DEFINING, settingsOf, TRAIN_DEFAULTS, TRAIN_FLAGS } from '../src/train/options.js';
import { RecipeError, recipeNames } from '../src/train/recipe.js';

const ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const tmp = mkdtempSync(join(tmpdir(), 'vit-train-options-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function recipeFile(name: string, recipe: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(recipe));
  return path;
}

describe('vit train flag table', () => {
  it('gives every flag a parseArgs option and a usage line with its default', () => {
    const options = parseArgsOptions(TRAIN_FLAGS);
    const usage = usageLines(TRAIN_FLAGS);
    for (const key of Object.keys(TRAIN_FLAGS)) {
      expect(options[flagName(key)]).toBeDefined();
      expect(usage).toContain(`--${flagName(key)}`);
    }
    expect(options['no-augment']).toEqual({ type: 'boolean' });
    expect(options['batch-size']).toEqual({ type: 'string' });
    expect(usage).toMatch(/--epochs N +passes over the training set \(default 8\)/);
    expect(usage).toMatch(/--crop-scale F .*\(default 0\.85\)/);
    expect(TRAIN_DEFAULTS).toMatchObject({ epochs: 8, batchSize: 128, lr: 2e-3, minLr: 1e-5, weightDecay: 0.05, cropScale: 0.85, logEvery: 10, seed: 0 });
    expect(RUN_DEFINING).toContain('recipe');
    expect(RUN_DEFINING).not.toContain('epochs');
  });

  it('reads the fine-tuning flags into the trainer settings and refuses --cache-embeddings with augmentation', () => {
    const o = readTrainOptions({ freeze: 'blocks:2', 'layer-decay': '0.75', 'head-warmup': '10' });
    expect(settingsOf(o).trainer).toMatchObject({ freeze: { blocks: 2 }, layerDecay: 0.75, headWarmup: 10 });
    expect(settingsOf(readTrainOptions({})).trainer.freeze).toBeUndefined();
    expect(settingsOf(readTrainOptions({ freeze: 'backbone', 'no-augment': true, 'cache-embeddings': true })).cacheEmbeddings).toBe(true);
    expect(() => readTrainOptions({ freeze: 'backbone', 'cache-embeddings': true })).toThrow(/--no-augment/);
    expect(() => readTrainOptions({ freeze: 'blocks' })).toThrow(/none, backbone or blocks:K/);
    expect(() => readTrainOptions({ 'layer-decay': '0' })).toThrow(/\(0, 1\]/);
  });

  it('merges defaults < recipe < flags, with recipe paths relative to the recipe', () => {
    const path = recipeFile('merge.json', {
      description: 'merge order',
      model: { imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 1, numHeads: 2, mlpDim: 32, numClasses: 10 },
      train: { data: 'sub/data', epochs: 3, batchSize: 16, lr: 0.01, noShuffle: true, tta: 'flip' },
    });
    const options = readTrainOptions({ recipe: path, lr: '0.005', 'batch-size': '8' });
    expect(options.values).toMatchObject({ data: join(tmp, 'sub/data'), epochs: 3, batchSize: 8, lr: 0.005, noShuffle: true, tta: 'flip', weightDecay: 0.05 });
    const settings = settingsOf(options);
    expect(settings.trainer).toMatchObject({ epochs: 3, batchSize: 8, lr: 0.005, shuffle: false, weightDecay: 0.05 });
    expect(settings.model).toMatchObject({ embedDim: 16, depth: 1 });
    expect(settings.recipe).toBe(path);
    // --config replaces the recipe's model.
    const replaced = settingsOf(readTrainOptions({ recipe: path, config: 'vit_tiny_patch16_224' }));
    expect(replaced.config).toBe('vit_tiny_patch16_224');
    expect(replaced.model).toBeUndefined();
    // A recipe's crop scale gives way to --no-augment; the same pair within one source is refused.
    expect(readTrainOptions({ recipe: recipeFile('crop.json', { train: { cropScale: 0.7 } }), 'no-augment': true }).values.noAugment).toBe(true);
    expect(() => readTrainOptions({ recipe: recipeFile('both.json', { train: { cropScale: 0.7, noAugment: true } }) })).toThrow(/cropScale in .* has no effect with noAugment/);
  });

  it('holds the 91% Fashion-MNIST run in fashion-mnist-91 (the gap architecture and the documented flags)', () => {
    expect(recipeNames()).toContain('fashion-mnist-91');
    const options = readTrainOptions({ recipe: 'fashion-mnist-91' });
    expect(options.recipe?.model).toEqual(readConfigSpec(join(ROOT, 'packages/training/recipes/fashion-mnist-gap.json')));
    // A recipe file given where a config is expected (vit bench --train-config) means its architecture.
    expect(readConfigSpec(join(ROOT, 'packages/training/recipes/fashion-mnist-91.json'))).toEqual(options.recipe?.model);
    // --data fashion-mnist --epochs 48 --batch-size 128 --lr 2e-3 --weight-decay 0.05 --label-smoothing 0.1 --clip-grad 1
    // --seed 0 --checkpoint-every 500 --log-every 50 --workers 2 --ema 0.999 --tta flip-zoom
    expect(options.values).toMatchObject({
      data: 'fashion-mnist', epochs: 48, batchSize: 128, lr: 2e-3, weightDecay: 0.05, labelSmoothing: 0.1, clipGrad: 1,
      seed: 0, checkpointEvery: 500, logEvery: 50, workers: 2, ema: 0.999, tta: 'flip-zoom',
    });
    expect(settingsOf(options).data).toBe('fashion-mnist');
  });

  it('refuses bad recipes in one typed line that names the key', () => {
    const fail = (flags: Record<string, string>): RecipeError => {
      try {
        readTrainOptions(flags);
      } catch (e) {
        expect(e).toBeInstanceOf(RecipeError);
        expect((e as RecipeError).message).not.toContain('\n');
        return e as RecipeError;
      }
      throw new Error('no error');
    };
    expect(fail({ recipe: recipeFile('key.json', { train: { batchsize: 16 } }) }).message).toMatch(/unknown key "train\.batchsize".*batchSize/);
    expect(fail({ recipe: recipeFile('top.json', { imageSize: 28 }) }).message).toMatch(/unknown key "imageSize"/);
    expect(fail({ recipe: recipeFile('value.json', { train: { batchSize: 'many' } }) }).message).toMatch(/train\.batchSize must be an integer, got "many"/);
    expect(fail({ recipe: recipeFile('range.json', { train: { ema: 1 } }) }).message).toMatch(/train\.ema must be below 1/);
    expect(fail({ recipe: recipeFile('switch.json', { train: { noAugment: 'yes' } }) }).message).toMatch(/train\.noAugment must be true or false/);
    expect(fail({ recipe: recipeFile('out.json', { train: { out: 'runs/x' } }) }).message).toMatch(/unknown key "train\.out"/);
    expect(fail({ recipe: recipeFile('model.json', { model: { hello: 1 } }) }).message).toMatch(/"model" is not a ViT config/);
    expect(fail({ recipe: join(tmp, 'missing.json') }).message).toMatch(/not found/);
    expect(fail({ recipe: 'no-such-recipe' }).message).toMatch(/unknown recipe "no-such-recipe" — use one of: .*fashion-mnist-91/);
  });
});
