import wabtInit from 'wabt';

/** WebAssembly text (SIMD enabled) to validated module bytes. */
export async function compileWat(name, text) {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}
