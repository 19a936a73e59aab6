// Runs inside headless Chromium (bundled by browser.test.ts): decodes with the
// browser's own codecs and with the shared pure-JS decoders, preprocesses with
// both the typed-array and the tfjs (cpu backend) paths, and hands the numbers
// back to Node as base64 float32.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage, decodeImageNative, jpegReady, preprocess, preprocessTensor, presetSpec, setJpegWasm, setWebpWasm, toRgb } from '../../src/browser.js';

function toBase64(data: Float32Array | Uint8Array): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

async function run(): Promise<Record<string, string | number>> {
  await tf.setBackend('cpu');
  const out: Record<string, string | number> = {};
  const png = await fetchBytes('/chelsea.png');
  const native = await decodeImageNative(png);
  const pure = await decodeImage(png);
  out.nativeSize = `${native.width}x${native.height}`;
  out.nativeRgb = toBase64(toRgb(native).data);
  out.pureRgb = toBase64(toRgb(pure).data);
  for (const preset of ['timm', 'hf', 'torchvision']) {
    out[`native:${preset}`] = toBase64(preprocess(native, presetSpec(preset)).data);
    out[`pure:${preset}`] = toBase64(preprocess(pure, presetSpec(preset)).data);
    const t = preprocessTensor(native, presetSpec(preset));
    out[`tfjs:${preset}`] = toBase64(t.dataSync() as Float32Array);
    t.dispose();
  }
  // WebP: the wasm decoder (fetched from this server) and the browser's own.
  setWebpWasm('/webp.wasm');
  const webp = await fetchBytes('/lossless.webp');
  out.webpWasm = toBase64(toRgb(await decodeImage(webp)).data);
  out.webpNative = toBase64(toRgb(await decodeImageNative(webp)).data);
  // JPEG: libjpeg-turbo in wasm, located by its own loader (beside the bundle), then given with setJpegWasm.
  const jpg = await fetchBytes('/photo_420.jpg');
  out.jpegDefault = toBase64(toRgb(await decodeImage(jpg)).data);
  out.jpegDefaultReady = jpegReady() ? 1 : 0;
  setJpegWasm('/mozjpeg_dec.wasm');
  out.jpegFresh = toBase64(toRgb(await decodeImage(jpg)).data);
  out.jpegFreshReady = jpegReady() ? 1 : 0;
  out.tensors = tf.memory().numTensors;
  return out;
}

(globalThis as { runVitkit?: () => Promise<Record<string, string | number>> }).runVitkit = run;
document.title = 'ready';
