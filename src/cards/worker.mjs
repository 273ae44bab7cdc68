// Piscina worker entry: workers start as plain Node, so register tsx first,
// then load the TypeScript worker. Fonts load once per worker, on first card.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
export const batch = mod.batch;
export const warm = mod.warm;
export const flush = mod.flush;
