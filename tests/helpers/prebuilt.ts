import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { cli, ROOT } from './cli.ts';

/**
 * Seed a test's out/ folder with a `broadsheet build` of the sample made once
 * per test run (per configuration text) and copied, so the test's own
 * `build` finds its digest and cards unchanged and keeps them (the build's
 * own caches: src/jobs/digest-cache.ts and the cards' inputHash) instead of
 * rendering them again — 2–3 s of CPU a build. The test still runs its build
 * and checks it; what it gets is byte-for-byte what a build would write, since
 * a cache hit requires every staged file to still have its recorded sha256.
 * Where the test's configuration differs from `configText` in what the
 * digest or a card is made from, the build's caches miss and render it anew.
 *
 * For tests that build an edition to test something else (the ledger,
 * topics, privacy). Not for tests of the build itself, its progress or its
 * caches. Outside this repository's vitest config (no prebuiltDir provided)
 * it does nothing.
 *
 * The first file of a run to ask for a configuration builds it through the
 * real CLI (its working folder: the repository, as the tests' CLI runs). The
 * key also holds every source, template and content file's size and mtime, so
 * an edit between two runs of a watch session is never served an old build.
 */
export function seedOut(out: string, configText: string): void {
  const root = inject('prebuiltDir');
  if (!root) return;
  const key = createHash('sha256')
    .update(`${ROOT}\0${configText}\0${sourcesFingerprint()}`)
    .digest('hex')
    .slice(0, 16);
  const done = join(root, key);
  if (!existsSync(done)) {
    const tmp = mkdtempSync(join(root, `${key}.tmp-`));
    const config = join(tmp, 'broadsheet.config.yaml');
    writeFileSync(config, configText);
    const r = cli(
      ['build', '--config', config, '--out', join(tmp, 'out'), '--store', join(tmp, 'db.sqlite')],
      {
        env: {
          BROADSHEET_SECRET: 'prebuilt-out-secret-0123456789abcdef',
          DATABASE_URL: undefined,
          SMTP_URL: undefined,
        },
      },
    );
    if (r.code !== 0) throw new Error(`prebuilt out/ (tests/helpers/prebuilt.ts): build failed\n${r.stderr}`);
    try {
      renameSync(tmp, done); // atomic: a file running at the same time sees all of it or none
    } catch (err) {
      if (!existsSync(done)) throw err;
      rmSync(tmp, { recursive: true, force: true }); // another file built it first
    }
  }
  cpSync(join(done, 'out'), out, { recursive: true, preserveTimestamps: true });
}

/** Path, size and mtime of every file a build reads from the repository (src, templates, content). */
function sourcesFingerprint(): string {
  const h = createHash('sha256');
  for (const top of ['src', 'templates', 'content', 'broadsheet.config.yaml', 'package.json']) {
    const p = join(ROOT, top);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    const files = s.isDirectory() ? (readdirSync(p, { recursive: true }) as string[]).sort() : [''];
    for (const f of files) {
      const st = statSync(join(p, f), { throwIfNoEntry: false }); // gone since the listing: not read
      if (st?.isFile()) h.update(`${top}/${f}\0${st.size}\0${st.mtimeMs}\0`);
    }
  }
  return h.digest('hex');
}
