// src/util/defer-require.ts: the modules MJML's dependencies require but the
// digest never uses are not loaded by a compile, the compile's HTML is the
// same as without the stand-ins, and a use of a stand-in still reaches the
// real module. Each case runs in its own Node (the stand-ins live in
// require's cache for the rest of a process).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.ts';

// Inlined and minified CSS (juice, htmlnano + cssnano), an image, a button, a
// CJK text and an Outlook conditional: the paths of the digest's templates.
const MJML = `<mjml>
  <mj-head>
    <mj-attributes><mj-all font-family="Noto Sans HK, sans-serif" /></mj-attributes>
    <mj-style inline="inline">.lead { color: #1a1a1a; margin: 0px 0px 0px 0px; }</mj-style>
    <mj-style>@media (max-width: 480px) { .pad { padding: 8px !important; } } .x { color: #ffffff; }</mj-style>
  </mj-head>
  <mj-body>
    <mj-section css-class="pad"><mj-column>
      <mj-image src="https://example.com/a.jpg" alt="港口" width="600px" />
      <mj-text css-class="lead">何立峰會見美國商界代表 <b>數讀</b></mj-text>
      <mj-button href="https://example.com/a?utm_source=email">閱讀全文</mj-button>
      <mj-raw><!--[if mso]><table><tr><td><![endif]--></mj-raw>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

const SCRIPT = `
import { createRequire } from 'node:module';
import { deferRequire, MJML_DEFERRED } from ${JSON.stringify(join(ROOT, 'src/util/defer-require.ts'))};
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const defer = process.argv[1] === 'defer';
const files = defer ? deferRequire(MJML_DEFERRED) : [];
const stubs = new Map(files.map((f) => [f, require.cache[f].exports]));
const unloaded = () => files.filter((f) => require.cache[f]?.exports === stubs.get(f));
const mjml = (await import('mjml')).default;
const { html, errors } = await mjml(process.env.MJML, { minify: true, keepComments: false, validationLevel: 'strict' });
const out = { html, errors: errors.length, files, unloadedAfterCompile: unloaded() };
if (defer) {
  // Uses of two stand-ins: a call (cssnano's preset) and a property of an __esModule one (undici).
  const preset = require.cache[files.find((f) => f.includes('cssnano-preset-default'))].exports;
  out.presetPlugins = preset({}).plugins.length;
  const undici = require.cache[files.find((f) => f.includes('undici'))].exports;
  out.undiciClient = typeof undici.Client;
  out.unloadedAfterUse = unloaded();
}
console.log(JSON.stringify(out));
`;

function run(mode: 'defer' | 'plain') {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, mode], {
    cwd: ROOT,
    env: { ...process.env, MJML },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    html: string;
    errors: number;
    files: string[];
    unloadedAfterCompile: string[];
    presetPlugins?: number;
    undiciClient?: string;
    unloadedAfterUse?: string[];
  };
}

describe('deferRequire (MJML)', () => {
  it('leaves the deferred modules unloaded through a compile, with the same HTML', () => {
    const deferred = run('defer');
    const plain = run('plain');
    // Both cheerios' undici, cssnano's default preset, juice's resource inliner.
    expect(deferred.files).toHaveLength(4);
    expect(deferred.files.filter((f) => f.endsWith('undici/index.js'))).toHaveLength(2);
    expect(deferred.unloadedAfterCompile).toEqual(deferred.files);
    expect(deferred.errors).toBe(0);
    expect(deferred.html).toContain('何立峰會見美國商界代表');
    expect(deferred.html).toBe(plain.html);
  });

  it('a use of a stand-in loads the real module and answers from it', () => {
    const r = run('defer');
    expect(r.presetPlugins).toBeGreaterThan(20); // cssnano's default preset: ~30 plugins
    expect(r.undiciClient).toBe('function');
    expect(r.unloadedAfterUse).toHaveLength(2); // juice's inliner and the other cheerio's undici
  });
});
