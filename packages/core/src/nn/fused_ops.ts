let fusedOpsOn = true;

/**
 * Turns vitkit's fused wasm ops (LayerNorm, and @vitkit/training's
 * gradient clipping) off or on (default on),
 * for comparing speed and numerics with the composite tfjs ops. Returns the
 * previous setting.
 */
export function setFusedOps(on: boolean): boolean {
  const was = fusedOpsOn;
  fusedOpsOn = on;
  return was;
}

/** Whether the fused wasm ops are on (see setFusedOps). */
export function fusedOpsEnabled(): boolean {
  return fusedOpsOn;
}
