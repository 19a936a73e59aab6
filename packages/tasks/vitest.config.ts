export { default } from '@vitkit/vitest-config';
