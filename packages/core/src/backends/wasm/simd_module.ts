export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Instantiates one of vitkit's small SIMD modules (a *_binary.ts constant,
 * compiled from its .wat) synchronously: they are about 1 KB. Undefined where
 * the runtime lacks wasm SIMD.
 */
export function instantiateSimdModule<T>(base64: string): T | undefined {
  try {
    return new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(base64))).exports as unknown as T;
  } catch {
    return undefined;
  }
}

/** Grows `memory` to at least `bytes`. */
export function reserveMemory(memory: WebAssembly.Memory, bytes: number): void {
  const have = memory.buffer.byteLength;
  if (bytes > have) memory.grow(Math.ceil((bytes - have) / 65536));
}
