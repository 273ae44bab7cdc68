// segment.ts loads BudouX's Parser class and one Chinese model by path instead
// of the package index (which loads every model and linkedom, ~250 ms of a
// card worker's start). The phrases must be the ones the package's own
// loadDefault…Parser() gives: compared on the sample's headlines and on
// generated text, seeded; and segmenting a headline must not load linkedom.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefaultSimplifiedChineseParser, loadDefaultTraditionalChineseParser } from 'budoux';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budouxParser } from '../../src/cards/segment.ts';
import { ROOT } from '../helpers/cli.ts';
import { MODULE_TRACER } from '../helpers/module-trace.ts';

const SEED = 20261201;
// Han characters of news copy, kana-free punctuation, Latin words, digits and spaces.
const PIECES = [
  ...'中國人工智能專利申請量佔全球六成經濟回顧頂風搏浪奮力向前副總理何立峰會見美國企業高管規則定義者数据治理模式产业发展报告的了是在和与於為',
  ...'，。、；：！？「」『』（）——……',
  'AI',
  'Qwen2.5-VL-72B',
  '2025',
  ' ',
  '%',
];
const text = fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 60 }).map((a) => a.join(''));

describe('budouxParser', () => {
  const hant = budouxParser('zh-hant');
  const hans = budouxParser('zh-hans');
  const refHant = loadDefaultTraditionalChineseParser();
  const refHans = loadDefaultSimplifiedChineseParser();

  it("gives the package parsers' phrases on the sample's headlines and deks", () => {
    const lines = readFileSync(
      join(ROOT, 'content/articles/2025-12-10/he-lifeng-meets-us-executives.md'),
      'utf8',
    )
      .split('\n')
      .filter((l) => /[\u4e00-\u9fff]/.test(l));
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      expect(hant.parse(l)).toEqual(refHant.parse(l));
      expect(hans.parse(l)).toEqual(refHans.parse(l));
    }
  });

  it("gives the package parsers' phrases on generated text (seeded)", () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(hant.parse(s)).toEqual(refHant.parse(s));
        expect(hans.parse(s)).toEqual(refHans.parse(s));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('segmenting a headline loads neither linkedom nor the other models', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-budoux-'));
    try {
      const trace = join(dir, 'trace.txt');
      writeFileSync(join(dir, 'tracer.mjs'), MODULE_TRACER);
      writeFileSync(trace, '');
      const script = `const { budouxParser } = await import(${JSON.stringify(join(ROOT, 'src/cards/segment.ts'))});
        console.log(budouxParser('zh-hant').parse('副總理何立峰會見美國企業高管').join('|'));`;
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--import', join(dir, 'tracer.mjs'), '--input-type=module', '-e', script],
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TRACE_FILE: trace }, timeout: 60_000 },
      );
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(refHant.parse('副總理何立峰會見美國企業高管').join('|'));
      const loaded = readFileSync(trace, 'utf8');
      expect(loaded).toContain('budoux/dist/parser.js');
      expect(loaded).not.toMatch(/linkedom|budoux\/(dist|module)\/index\.js|models\/ja\.js|models\/th\.js/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
