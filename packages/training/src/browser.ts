// The browser entry (package.json "browser" condition, or `@vitkit/training/browser`):
// the same optimizer, schedules, losses, Trainer and evaluation as in Node,
// with nothing that needs Node (no file system, threads, zlib or path).
// Datasets are built in memory (ImageDataset); run directories become the
// bytes of model files (modelSafetensors, configJson) to offer as downloads.
export * from './portable.js';

// Gradients (call once before training): the bundler resolves tfjs-core's definitions.
export { registerGradients } from './register_gradients_browser.js';
export { gradientsRegistered } from './gradient_definitions.js';
