// A preload (node --import) that records every module a process loads, one URL
// or path per line in $TRACE_FILE: ESM resolutions through a loader hook,
// CommonJS ones from require.cache when the process exits. Used by the start
// tests to prove what a short command does not load.
export const MODULE_TRACER = `
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const out = process.env.TRACE_FILE;
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(s, c, n) { const r = await n(s, c); appendFileSync(\${JSON.stringify(out)}, r.url + '\\\\n'); return r; }\`));
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(out, Object.keys(cache).join('\\n') + '\\n'));
`;
