// Development entry of the kernel helper thread (tests and tsx runs start the TypeScript source through tsx).
import { register } from 'tsx/esm/api';

register();
await import('./kernel-helper.ts');
