import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

// Static assets of the gallery. The client script is bundled once per process
// with esbuild from assets/client.js + twitter-text (about 30 kB minified):
// core-js polyfills that twitter-text's build imports are left out — every
// browser that can run the gallery has those built-ins.

const here = import.meta.dirname;
const require = createRequire(import.meta.url);

export const css = () => readFileSync(join(here, 'assets/app.css'), 'utf8');

let script: Promise<string> | undefined;

export function clientScript(): Promise<string> {
  script ??= (async () => {
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      entryPoints: [join(here, 'assets/client.js')],
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020'],
      write: false,
      logLevel: 'silent',
      nodePaths: [dirname(dirname(dirname(require.resolve('twitter-text/package.json'))))],
      plugins: [
        {
          name: 'no-core-js',
          setup(b) {
            b.onResolve({ filter: /^core-js\// }, (a) => ({ path: a.path, namespace: 'empty' }));
            b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: '' }));
          },
        },
      ],
    });
    return r.outputFiles[0]!.text;
  })();
  script.catch(() => {
    script = undefined;
  });
  return script;
}

// Thumbnails: WebP at 360 px on the long side, made on first request and kept
// by card hash (a card that changes gets a new hash), at most a few hundred.
const thumbs = new Map<string, Buffer>();

export async function thumbnail(file: string, sha256: string): Promise<Buffer> {
  const hit = thumbs.get(sha256);
  if (hit) return hit;
  const sharp = (await import('sharp')).default;
  const out = await sharp(file).resize(360, 360, { fit: 'inside' }).webp({ quality: 78 }).toBuffer();
  if (thumbs.size > 600) thumbs.delete(thumbs.keys().next().value!);
  thumbs.set(sha256, out);
  return out;
}
