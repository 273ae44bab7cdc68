// `broadsheet publish` SIGKILLed while the webhook receiver holds its request:
// the next run sends the same post again under the same idempotency key (so
// the receiver can drop the repeat), marks it published, and a third run sends
// nothing. Real processes, a real store, a receiver on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postKey } from '../../src/review/editions.ts';
import { openStore } from '../../src/store/db.ts';
import { ReviewRepo } from '../../src/store/review.ts';
import { EDITION, writeEdition } from '../fixtures/review/edition.ts';
import { BIN, ROOT, workspaceArgs } from '../helpers/cli.ts';

describe('publish across a crash', () => {
  let dir: string;
  let url: string;
  const seen: { key: string; answered: boolean }[] = [];
  let hold = true;
  const held: ServerResponse[] = [];
  let gotFirst: () => void;
  const first = new Promise<void>((r) => {
    gotFirst = r;
  });
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      if (hold) {
        seen.push({ key, answered: false });
        held.push(res);
        gotFirst();
        return;
      }
      // An idempotent receiver: a key it has seen is acknowledged, not posted again.
      seen.push({ key, answered: true });
      res.writeHead(200).end('ok');
    });
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bs-publish-crash-'));
    await writeEdition(join(dir, 'out'));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    writeFileSync(
      join(dir, 'broadsheet.config.yaml'),
      `review:\n  publishers: [webhook]\n  webhook:\n    url: ${url}\n    includeImage: false\n`,
    );
    const db = openStore(join(dir, 'db.sqlite'));
    const k = { edition: EDITION, itemId: 'china-ai-patents-lead', platform: 'x' };
    const caption = '中國AI突飛猛進 專利量全球居首';
    new ReviewRepo(db).approve(k, {
      editor: '陳編輯',
      format: 'x',
      caption,
      edited: caption,
      key: postKey({ ...k, format: 'x', caption, cardSha256: 'china-ai-patents-lead-x-sha' }),
      publishers: ['webhook'],
    });
    db.close();
  });
  afterAll(async () => {
    for (const r of held) r.destroy();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  const args = () => ['publish', '--json', ...workspaceArgs(dir)];
  const env = { BROADSHEET_SECRET: 'crash-secret' };
  // Asynchronous: the receiver lives in this process and must keep answering.
  const run = () =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, ...args()], {
        cwd: ROOT,
        env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => {
        stdout += d;
      });
      p.stderr.on('data', (d: Buffer) => {
        stderr += d;
      });
      p.once('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('sends the same key again after a SIGKILL, then never again', async () => {
    const child = spawn(process.execPath, [BIN, ...args()], {
      cwd: ROOT,
      env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    await first;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    const db = openStore(join(dir, 'db.sqlite'));
    expect(db.prepare('SELECT state, attempts FROM publish_queue').get()).toEqual({
      state: 'sending',
      attempts: 1,
    });
    db.close();

    hold = false;
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ published: 1, recovered: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[1]!.key).toBe(seen[0]!.key);

    const third = await run();
    expect(JSON.parse(third.stdout)).toMatchObject({ published: 0, recovered: 0 });
    expect(seen).toHaveLength(2);
  });
});
