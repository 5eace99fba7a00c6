// Development entry of the data-parallel worker (tests and tsx runs start the TypeScript source through tsx).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
