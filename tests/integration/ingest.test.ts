// Feed ingestion end to end: real files, a real node:http server on 127.0.0.1,
// the real CLI. Timeouts use a short option, never a wall-clock assertion.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ingestFeed } from '../../src/content/feeds/ingest.ts';
import { loadContent } from '../../src/content/load.ts';
import { articleFrontMatterSchema } from '../../src/content/model.ts';
import type { Context } from '../../src/context.ts';
import { BIN, ROOT } from '../helpers/cli.ts';
import { testContext } from '../helpers/context.ts';

const FIX = join(ROOT, 'tests/fixtures/feeds');
const fixture = (name: string) => readFile(join(FIX, name));

const BIG5_TITLE = '港人講啲嘢：𨋢𡃁嘅故事';
const BIG5_XML = `<?xml version="1.0" encoding="Big5-HKSCS"?>
<rss version="2.0"><channel><title>香港商報 即時</title><link>https://hk.example.com/</link><description>即時</description>
<item><title>${BIG5_TITLE}</title><link>https://hk.example.com/news/lift-boy</link><guid>https://hk.example.com/news/lift-boy</guid>
<pubDate>Wed, 10 Dec 2025 08:00:00 +0800</pubDate><description>&lt;p&gt;啲𡃁仔喺𨋢入面傾偈 &amp;amp; 講「好正」&lt;/p&gt;</description></item>
</channel></rss>`;
const big5Bytes = () => {
  const bytes = iconv.encode(BIG5_XML, 'big5hkscs');
  // Guard the fixture itself: every character must exist in Big5-HKSCS.
  expect(iconv.decode(bytes, 'big5hkscs')).toBe(BIG5_XML);
  return bytes;
};

// ── the loopback server ───────────────────────────────────────────────────────
let server: Server;
let base: string;
const sockets = new Set<Socket>();
const seen: { path: string; headers: IncomingMessage['headers'] }[] = [];

async function route(req: IncomingMessage, res: ServerResponse) {
  const path = req.url ?? '/';
  seen.push({ path, headers: req.headers });
  const redirect = /^\/hop\/(\d+)$/.exec(path);
  if (redirect) {
    const n = Number(redirect[1]);
    res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : '/atom.xml' }).end();
    return;
  }
  switch (path) {
    case '/rss.xml': {
      const etag = '"rss-v1"';
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res
        .writeHead(200, {
          'content-type': 'application/rss+xml; charset=utf-8',
          etag,
          'last-modified': 'Wed, 10 Dec 2025 01:00:00 GMT',
        })
        .end(await fixture('rss.xml'));
      return;
    }
    case '/atom.xml':
      res.writeHead(200, { 'content-type': 'application/atom+xml' }).end(await fixture('atom.xml'));
      return;
    case '/feed.json':
      res.writeHead(200, { 'content-type': 'application/feed+json' }).end(await fixture('feed.json'));
      return;
    case '/big5.xml':
      // No charset in the header: the XML declaration has to be honoured.
      res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(big5Bytes());
      return;
    case '/malformed.xml':
      res
        .writeHead(200, { 'content-type': 'application/xml', etag: '"bad"' })
        .end(await fixture('malformed.xml'));
      return;
    case '/huge.xml': {
      // No Content-Length: the cap has to be enforced while streaming.
      res.writeHead(200, { 'content-type': 'application/xml' });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    case '/declared.xml':
      // An honest Content-Length over the cap is refused before reading the body.
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': String(1024 * 1024) });
      res.end(Buffer.alloc(1024 * 1024, 0x20));
      return;
    case '/slow.xml':
      // Headers, then silence: only the client's deadline ends this.
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.write('<?xml version="1.0"?><rss version="2.0">');
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    route(req, res).catch((err) => res.writeHead(500).end(String(err)));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

// ── a context per test, in its own temp folder ─────────────────────────────────
let dir: string;
let ctx: Context;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broadsheet-ingest-'));
  seen.length = 0;
  ctx = testContext({ root: dir, paths: { templates: join(ROOT, 'templates') } });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function articleFiles(contentDir = ctx.paths.content): Promise<string[]> {
  const root = join(contentDir, 'articles');
  if (!existsSync(root)) return [];
  return (await readdir(root, { recursive: true }))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(root, f));
}

/** Every written file: front matter passes the schema, and the real content loader reports nothing. */
async function validated(contentDir = ctx.paths.content) {
  const fronts = [];
  for (const file of await articleFiles(contentDir)) {
    const text = await readFile(file, 'utf8');
    const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
    expect(m, file).toBeTruthy();
    const front = articleFrontMatterSchema.parse(parseYaml(m![1]!, { schema: 'core' }));
    expect(file).toContain(join('articles', front.publishedAt.slice(0, 10), `${front.id}.md`));
    fronts.push(front);
  }
  const loaded = await loadContent(contentDir);
  expect(loaded.problems).toEqual([]);
  expect(loaded.articles).toHaveLength(fronts.length);
  return fronts;
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'resolved';
};

// ── tests ─────────────────────────────────────────────────────────────────────
describe('ingest from files', () => {
  it('maps RSS 2.0, Atom 1.0 and JSON Feed 1.1 to valid articles with the right Traditional Chinese titles', async () => {
    const rss = await ingestFeed(ctx, join(FIX, 'rss.xml'));
    expect(rss).toMatchObject({ format: 'rss', feedTitle: '大公報 & 即時新聞', items: 7 });
    expect(rss.written).toHaveLength(3);
    expect(rss.skipped.map((s) => s.field).sort()).toEqual(['publishedAt', 'title', 'url', 'url']);
    expect(rss.skipped.find((s) => s.field === 'title')).toMatchObject({
      item: expect.stringContaining('item 7'),
      reason: expect.stringContaining('200'),
    });
    const atom = await ingestFeed(ctx, join(FIX, 'atom.xml'));
    const json = await ingestFeed(ctx, join(FIX, 'feed.json'));
    expect([atom.written.length, json.written.length]).toEqual([2, 2]);

    const fronts = await validated();
    const byTitle = new Map(fronts.map((f) => [f.title, f]));
    expect([...byTitle.keys()].sort()).toEqual(
      [
        '何立峰會見美企高管：中美應拉長合作清單 壓縮問題清單',
        '港人講「啲嘢」：𨋢𡃁嘅故事 & "引號" 😀 {{ x }} {% raw %}',
        '數據治理大模型 政企管理好幫手',
        '中國AI突飛猛進 專利量全球居首 & 算力芯片',
        '中國從AI「技術追趕者」變為「規則定義者」 {{ x }}',
        '數讀中國AI發展：用戶規模達5.15億人 😀',
        '超5300家人工智能企業',
      ].sort(),
    );
    const lift = byTitle.get('港人講「啲嘢」：𨋢𡃁嘅故事 & "引號" 😀 {{ x }} {% raw %}')!;
    expect(lift.dek).toBe('升降機（𨋢）同𡃁仔嘅故事，啲人話 & 「好正」 😀 {{ x }} {% raw %}');
    expect(lift.publishedAt).toBe('2025-12-10T07:15:00+08:00');
    expect(lift.image).toEqual({ src: 'https://img.example.com/2025/12/10/lift.png', alt: lift.title });
    const he = byTitle.get('何立峰會見美企高管：中美應拉長合作清單 壓縮問題清單')!;
    expect(he).toMatchObject({
      section: '要聞',
      tags: ['要聞', '中美關係'],
      authors: ['新華社'],
      source: '大公報 & 即時新聞',
      image: {
        src: 'https://img.example.com/2025/12/10/helifeng.jpg',
        alt: '何立峰在北京會見艾倫',
        credit: '新華社',
      },
    });
    expect(he.dek).not.toMatch(/alert|script|color/);
    // No item's text kept markup or a script.
    for (const f of fronts) expect(`${f.title} ${f.dek}`).not.toMatch(/<\/?[a-z]|steal|track\(/i);
    expect(byTitle.get('數據治理大模型 政企管理好幫手')).toMatchObject({
      url: 'https://news.example.com/2025/12/10/data-governance-model',
      section: '新聞',
    });
    expect(byTitle.get('數據治理大模型 政企管理好幫手')!.image).toBeUndefined();

    // Written files keep template syntax and quotes literal, as double-quoted YAML strings.
    const liftFile = (await articleFiles()).find((f) => f.includes('lift-boy-story'))!;
    expect(await readFile(liftFile, 'utf8')).toContain(
      'title: "港人講「啲嘢」：𨋢𡃁嘅故事 & \\"引號\\" 😀 {{ x }} {% raw %}"',
    );
  });

  it('writes nothing on a second ingest of the same feeds', async () => {
    for (const f of ['rss.xml', 'atom.xml', 'feed.json']) await ingestFeed(ctx, join(FIX, f));
    const before = await articleFiles();
    for (const f of ['rss.xml', 'atom.xml', 'feed.json']) {
      const again = await ingestFeed(ctx, join(FIX, f));
      expect(again.written, f).toEqual([]);
      expect(again.unchanged.length, f).toBeGreaterThan(0);
    }
    expect(await articleFiles()).toEqual(before);
  });

  it('decodes a Big5-HKSCS file, HKSCS characters included', async () => {
    const file = join(dir, 'big5.xml');
    await writeFile(file, big5Bytes());
    const r = await ingestFeed(ctx, file);
    expect(r).toMatchObject({ encoding: 'big5hkscs', feedTitle: '香港商報 即時' });
    const [front] = await validated();
    expect(front!.title).toBe(BIG5_TITLE);
    expect(front!.dek).toBe('啲𡃁仔喺𨋢入面傾偈 & 講「好正」');
    expect(JSON.stringify(front)).not.toMatch(/[\uE000-\uF8FF]/u);
  });

  it('refuses a malformed feed or a non-feed with FEED_INVALID and writes nothing', async () => {
    expect(await codeOf(ingestFeed(ctx, join(FIX, 'malformed.xml')))).toBe('FEED_INVALID');
    expect(await codeOf(ingestFeed(ctx, join(FIX, 'not-a-feed.html')))).toBe('FEED_INVALID');
    expect(await codeOf(ingestFeed(ctx, join(FIX, 'missing.xml')))).toBe('FEED_UNREADABLE');
    expect(existsSync(ctx.paths.content)).toBe(false);
  });
});

describe('ingest over HTTP', () => {
  const cacheFile = () => join(dir, 'data', 'feed-cache.json');

  it('remembers the ETag, sends it back, and a 304 writes nothing', async () => {
    const first = await ingestFeed(ctx, `${base}/rss.xml`);
    expect(first.written).toHaveLength(3);
    const cache = JSON.parse(await readFile(cacheFile(), 'utf8'));
    expect(cache.feeds[`${base}/rss.xml`]).toMatchObject({
      etag: '"rss-v1"',
      lastModified: 'Wed, 10 Dec 2025 01:00:00 GMT',
    });
    const files = await articleFiles();

    const second = await ingestFeed(ctx, `${base}/rss.xml`);
    expect(second).toMatchObject({ notModified: true, written: [], unchanged: [], skipped: [] });
    const last = seen.at(-1)!.headers;
    expect(last['if-none-match']).toBe('"rss-v1"');
    expect(last['if-modified-since']).toBe('Wed, 10 Dec 2025 01:00:00 GMT');

    // --force fetches the whole feed; the items are already there.
    const forced = await ingestFeed(ctx, `${base}/rss.xml`, { force: true });
    expect(seen.at(-1)!.headers['if-none-match']).toBeUndefined();
    expect(forced).toMatchObject({ notModified: false, written: [] });
    expect(forced.unchanged).toHaveLength(3);
    expect(await articleFiles()).toEqual(files);
    await validated();
  });

  it('reads Atom, JSON Feed and a Big5 feed declared only in its XML declaration', async () => {
    for (const p of ['/atom.xml', '/feed.json', '/big5.xml']) await ingestFeed(ctx, `${base}${p}`);
    const titles = (await validated()).map((f) => f.title);
    expect(titles).toContain(BIG5_TITLE);
    expect(titles).toContain('中國AI突飛猛進 專利量全球居首 & 算力芯片');
    expect(titles).toContain('數讀中國AI發展：用戶規模達5.15億人 😀');
  });

  it('follows redirects up to the cap and fails past it', async () => {
    const ok = await ingestFeed(ctx, `${base}/hop/5`);
    expect(ok.written).toHaveLength(2);
    expect(await codeOf(ingestFeed(ctx, `${base}/hop/6`))).toBe('FEED_FETCH');
    expect(await codeOf(ingestFeed(ctx, `${base}/hop/2`, { maxRedirects: 1 }))).toBe('FEED_FETCH');
  });

  it('aborts an oversize body, times out a stalled server, reports HTTP errors; all write nothing', async () => {
    const err = await ingestFeed(ctx, `${base}/huge.xml`, { maxBytes: 256 * 1024 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'FEED_FETCH', message: expect.stringContaining('limit') });
    const declared = await ingestFeed(ctx, `${base}/declared.xml`, { maxBytes: 256 * 1024 }).catch((e) => e);
    expect(declared).toMatchObject({ code: 'FEED_FETCH', message: expect.stringContaining('limit') });
    const slow = await ingestFeed(ctx, `${base}/slow.xml`, { timeoutMs: 300 }).catch((e) => e);
    expect(slow).toMatchObject({ code: 'FEED_FETCH', message: expect.stringContaining('timed out') });
    expect(await codeOf(ingestFeed(ctx, `${base}/nope.xml`))).toBe('FEED_FETCH');
    expect(await articleFiles()).toEqual([]);
    expect(existsSync(cacheFile())).toBe(false);
  });

  it('a malformed feed is FEED_INVALID naming the URL, writes nothing and remembers no ETag', async () => {
    const err = await ingestFeed(ctx, `${base}/malformed.xml`).catch((e) => e);
    expect(err).toMatchObject({
      code: 'FEED_INVALID',
      message: expect.stringContaining(`${base}/malformed.xml`),
    });
    expect(existsSync(ctx.paths.content)).toBe(false);
    expect(existsSync(cacheFile())).toBe(false);
  });
});

// ── the real CLI (spawned asynchronously: the server lives in this process) ──
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, DEBUG: '', LOG_LEVEL: 'info' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('broadsheet ingest (CLI)', () => {
  const globals = () => ['--content', join(dir, 'content'), '--store', join(dir, 'data', 'broadsheet.db')];

  it('ingests a URL, prints a JSON summary, then says not modified', async () => {
    const first = await run(['ingest', `${base}/rss.xml`, ...globals(), '--json']);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.counts).toEqual({ written: 3, unchanged: 0, skipped: 4 });
    expect(report.skipped[0]).toEqual({
      item: expect.any(String),
      field: expect.any(String),
      reason: expect.any(String),
    });

    const second = await run(['ingest', `${base}/rss.xml`, ...globals()]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('not modified');
    const titles = (await validated(join(dir, 'content'))).map((f) => f.title);
    expect(titles).toContain('何立峰會見美企高管：中美應拉長合作清單 壓縮問題清單');
  });

  it('ingests a Big5 file twice without duplicates and prints the counts', async () => {
    const file = join(dir, 'big5.xml');
    await writeFile(file, big5Bytes());
    const first = await run(['ingest', file, ...globals(), '--section', '港聞']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain('1 written, 0 unchanged, 0 skipped');
    const again = await run(['ingest', file, ...globals()]);
    expect(again.stdout).toContain('0 written, 1 unchanged, 0 skipped');
    const [front] = await validated(join(dir, 'content'));
    expect(front).toMatchObject({ title: BIG5_TITLE, section: '港聞' });
  });

  it('exits 1 with FEED_INVALID for a malformed feed and FEED_FETCH past the timeout, no stack', async () => {
    const bad = await run(['ingest', join(FIX, 'malformed.xml'), ...globals()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('FEED_INVALID');
    expect(bad.stderr).toContain('malformed.xml');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const slow = await run(['ingest', `${base}/slow.xml`, ...globals(), '--timeout', '300']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('FEED_FETCH');
    expect(await articleFiles(join(dir, 'content'))).toEqual([]);
  });
});
