const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
export default { server: { headers: isolation }, preview: { headers: isolation }, build: { target: 'es2022', chunkSizeWarningLimit: 8192 } };
