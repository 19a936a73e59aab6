export { default } from '@vitkit/eslint-config';
