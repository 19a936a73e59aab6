// Browser entry: everything in the main entry (the pure-JS decoders give the
// same pixels as in Node) plus decoding with the browser's native codecs.
export * from './index.js';
export { decodeImageNative } from './decode/browser_entry.js';
export { canDecodeWithBrowser } from './decode/browser_decode.js';
