import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeContactSheets } from '../../src/cards/contact.ts';
import { createReviewApp } from '../../src/review/app.ts';
import { type DB, openStore } from '../../src/store/db.ts';
import { EDITION, PASSWORD, reviewContext, writeEdition } from '../fixtures/review/edition.ts';
import { cookiesOf, csrfIn } from '../helpers/session.ts';

// The gallery's card checks (issue 12): the WeChat-crop and story-safe-zone
// toggles, and the edition's contact sheets, one PNG per format, downloadable.

const BASE = 'http://127.0.0.1';
const TEMPLATES = join(import.meta.dirname, '../../templates');
let dir: string;
let db: DB;
let app: ReturnType<typeof createReviewApp>;
let cookie = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bs-gallery-'));
  const ctx = reviewContext(dir);
  ctx.paths.templates = TEMPLATES;
  const manifest = await writeEdition(ctx.paths.out);
  // The review fixture draws og/x/square/portrait; add a wechat and a story card to one item.
  const ed = join(ctx.paths.out, EDITION);
  const first = manifest.cards[0]!;
  for (const [format, width, height] of [
    ['wechat', 900, 383],
    ['story', 1080, 1920],
  ] as const) {
    const path = `cards/${first.itemId}/${format}.png`;
    await sharp({ create: { width, height, channels: 3, background: '#a4161a' } })
      .png()
      .toFile(join(ed, path));
    manifest.cards.push({ ...first, id: `${first.itemId}/${format}`, format, width, height, path });
  }
  writeFileSync(join(ed, 'manifest.json'), JSON.stringify(manifest));
  await writeContactSheets(ed, manifest.cards, ['og', 'story']);
  db = openStore(ctx.paths.store);
  app = createReviewApp(ctx, { db });
  const page = await app.request(`${BASE}/login`);
  const pre = cookiesOf(page);
  const res = await app.request(`${BASE}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: pre },
    body: new URLSearchParams({
      _csrf: csrfIn(await page.text()),
      name: '陳編輯',
      password: PASSWORD,
      next: '/',
    }).toString(),
  });
  cookie = [pre, cookiesOf(res)].filter(Boolean).join('; ');
});
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gallery card checks', () => {
  it('offers the WeChat crop and story safe-zone toggles and a contact sheet per format', async () => {
    const html = await (await app.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();
    expect(html).toContain('id="ov-wechat"');
    expect(html).toContain('id="ov-story"');
    expect(html).toContain('class="f-wechat"');
    expect(html).toMatch(new RegExp(`href="/e/${EDITION}/contact/og.png" download=`));
    const css = await (await app.request(`${BASE}/static/app.css`)).text();
    expect(css).toContain('#ov-wechat:checked ~ .item .f-wechat .frame::after');
  });

  it("draws the story safe zones from the theme's safeZones, and a changed theme value shows", async () => {
    const html = await (await app.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();
    // The sample theme: 250 px top, 340 px bottom of 1920.
    expect(html).toContain('data-top="250" data-bottom="340"');
    expect(html).toContain('<rect x="0" y="1580" width="1080" height="340"');
    expect(html.match(/class="zones"/g)).toHaveLength(1); // the one story card; no zones on other formats

    const templates = join(dir, 'templates-changed');
    cpSync(TEMPLATES, templates, { recursive: true });
    const file = join(templates, 'cards', 'theme.json');
    const theme = JSON.parse(readFileSync(file, 'utf8'));
    theme.safeZones = { story: { top: 300, bottom: 410 } };
    writeFileSync(file, JSON.stringify(theme));
    const ctx2 = reviewContext(dir);
    ctx2.paths.templates = templates;
    const app2 = createReviewApp(ctx2, { db });
    const changed = await (await app2.request(`${BASE}/e/${EDITION}`, { headers: { cookie } })).text();
    expect(changed).toContain('data-top="300" data-bottom="410"');
    expect(changed).toContain('<rect x="0" y="1510" width="1080" height="410"');
    expect(changed).not.toContain('data-top="250"');
  });

  it('serves a contact sheet as a PNG download to editors only', async () => {
    const anon = await app.request(`${BASE}/e/${EDITION}/contact/og.png`);
    expect(anon.status).toBe(303);
    const res = await app.request(`${BASE}/e/${EDITION}/contact/og.png`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect(png.width).toBeGreaterThan(480);
    for (const path of ['contact/wechat.png', 'contact/../manifest.json', 'contact/nope.png']) {
      const r = await app.request(`${BASE}/e/${EDITION}/${path}`, { headers: { cookie } });
      expect(r.status, path).toBe(404);
    }
  });
});
