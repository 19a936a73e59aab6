// Comparing embeddings: cosine similarity of two vectors, of every pair, and each one's nearest neighbour.
import { ConfigError } from '@vitkit/core';

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new ConfigError(`vectors differ in length (${a.length} and ${b.length})`, 'compare embeddings of the same model and pooling');
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Cosine similarity of every pair: `matrix[i][j]` compares vector i with vector j. Symmetric, with
 * 1 on the diagonal (0 for an all-zero vector), computed once per pair.
 */
export function similarityMatrix(vectors: readonly ArrayLike<number>[]): number[][] {
  const n = vectors.length;
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const s = cosineSimilarity(vectors[i]!, vectors[j]!);
      matrix[i]![j] = s;
      matrix[j]![i] = s;
    }
  }
  return matrix;
}

/** The most similar other item of one row of a similarity matrix. */
export interface Neighbour {
  /** Index of the most similar other item (-1 when there is no other). */
  index: number;
  similarity: number;
}

/** For each row of a similarity matrix, the most similar other item (itself excluded; ties: lower index). */
export function nearestNeighbours(matrix: readonly (readonly number[])[]): Neighbour[] {
  return matrix.map((row, i) => {
    let best: Neighbour = { index: -1, similarity: -Infinity };
    row.forEach((s, j) => {
      if (j !== i && s > best.similarity) best = { index: j, similarity: s };
    });
    return best.index < 0 ? { index: -1, similarity: Number.NaN } : best;
  });
}
