// caniemail lint (doiuse-email) of the digest for the clients our readers use,
// on the sample edition and a 20-story one, in both Chinese variants. Every
// error is either fixed in the templates or listed here with the reason the
// digest still reads correctly where it is unsupported. A listed allowance
// nobody needs any more fails too, so the list stays true.
import { doIUseEmail } from 'doiuse-email';
import { beforeAll, describe, expect, it } from 'vitest';
import { mergeRecipient, renderDigest } from '../../src/email/index.ts';
import { emailContext, RECIPIENT, seedEdition, storiesEdition } from '../fixtures/email/fixtures.ts';

// Gmail web/iOS/Android, Outlook Windows/macOS/web, Apple Mail macOS/iOS, Yahoo.
// (gmail.mobile-webmail, Gmail's basic HTML view for old phone browsers, is not
// a client our readers use; it also gets the inline styles.)
const CLIENTS = [
  'gmail.desktop-webmail',
  'gmail.ios',
  'gmail.android',
  'outlook.windows',
  'outlook.macos',
  'outlook.outlook-com',
  'apple-mail.macos',
  'apple-mail.ios',
  'yahoo.desktop-webmail',
  'yahoo.ios',
  'yahoo.android',
] as const;

/** [feature, clients it may be unsupported in, why the digest still works there]. */
const DEGRADES: [string, RegExp, string][] = [
  [
    '@media',
    /^outlook\.windows$/,
    'phone sizes and dark mode only; Word renders the 600 px desktop layout from the MSO tables',
  ],
  [
    'Attribute selector',
    /^outlook\.windows$/,
    '[data-ogsc]/[data-ogsb] dark-mode rules are for Outlook.com only',
  ],
  [
    'Chaining selectors',
    /^outlook\.windows$/,
    'dark-mode rules (.s .m …); Outlook for Windows has no dark rewrite of its own to fix',
  ],
  ['outline', /^outlook\.windows$/, 'MJML sets outline:none on images; without it nothing changes in Word'],
  [
    'opacity',
    /^(outlook\.windows|yahoo\..*)$/,
    'preheader hiding: mso-hide:all (Outlook) and display:none/max-height:0 (Yahoo) hide it there',
  ],
  ['overflow', /^(outlook\.windows|yahoo\.android)$/, 'preheader hiding, as above'],
  [
    'word-break',
    /^yahoo\..*$/,
    'MJML text cells; Chinese breaks between characters anyway, Latin words in headlines are short',
  ],
  [
    'aria-label attribute',
    /^yahoo\..*$/,
    'MJML labels the body for screen readers; Yahoo drops the label, the content is read as usual',
  ],
  [
    '<body> element',
    /^yahoo\.(ios|android)$/,
    'Yahoo replaces <body> with a <div>; the background is also on the wrapper tables',
  ],
];

const errorsOf = (html: string) => {
  const r = doIUseEmail(html, { emailClients: [...CLIENTS] });
  return (r.success ? [] : r.errors).map((e: string) => {
    const m = /^`(.+)` is not supported by `(.+)`$/.exec(e);
    return { feature: m?.[1] ?? e, client: m?.[2] ?? '?', raw: e };
  });
};

const pages: Record<string, string> = {};

beforeAll(async () => {
  const ctx = emailContext();
  const seed = await seedEdition(ctx);
  const sample = await renderDigest(seed, ctx, { validation: 'strict' });
  const twenty = await renderDigest(storiesEdition(seed, 20), ctx);
  pages.sample = mergeRecipient(sample, RECIPIENT).html;
  pages['sample zh-Hans'] = mergeRecipient(sample, { ...RECIPIENT, locale: 'zh-Hans' }).html;
  pages.twenty = mergeRecipient(twenty, RECIPIENT).html;
  pages['sample en-GB'] = mergeRecipient(
    await renderDigest({ ...seed, locale: 'en-GB' }, ctx),
    RECIPIENT,
  ).html;
  const full = await renderDigest(seed, emailContext({ email: { stats: 'full' } }));
  pages['sample stats:full'] = mergeRecipient(full, RECIPIENT).html;
});

describe('caniemail (doiuse-email)', () => {
  it('reports nothing but the listed graceful degradations', () => {
    const used = new Set<string>();
    const unexplained: string[] = [];
    for (const [name, html] of Object.entries(pages))
      for (const e of errorsOf(html)) {
        const ok = DEGRADES.find(([f, c]) => f === e.feature && c.test(e.client));
        if (ok) used.add(ok[0]);
        else unexplained.push(`${name}: ${e.raw}`);
      }
    expect([...new Set(unexplained)]).toEqual([]);
    // Each allowance is still needed (fixed ones leave the list).
    expect(DEGRADES.map((d) => d[0]).filter((f) => !used.has(f))).toEqual([]);
  });

  it('has no white-space, target or position anywhere', () => {
    for (const html of Object.values(pages)) {
      expect(html).not.toMatch(/white-space|\starget[=\s>]|position:/);
    }
  });
});

describe('Outlook-safe structure', () => {
  it('puts borders and padding on table cells, never on div, p or headings', () => {
    for (const [name, html] of Object.entries(pages)) {
      const bad: string[] = [];
      for (const m of html.matchAll(/<(div|p|h[1-6]|span|a)\b[^>]*style="([^"]*)"/g)) {
        const style = m[2]!;
        // mj-divider's <p> has an MSO table fallback for Outlook; the preheader is hidden.
        if (m[1] === 'p' && /^border-top:solid/.test(style)) continue;
        if (/mso-hide:all/.test(style)) continue;
        if (/(^|;)(border|padding)(-[a-z]+)?:/.test(style)) bad.push(`<${m[1]} style="${style}">`);
        const margin = /(?:^|;)margin:([^;]+)/.exec(style)?.[1];
        if (margin && !/^0(px)?( auto)?$/.test(margin)) bad.push(`<${m[1]} style="${style}">`);
      }
      expect(bad, name).toEqual([]);
    }
  });
});
