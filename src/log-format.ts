// How a log record reads on a terminal: one line per event, fields inline —
//   12:00:01 INFO sending daily-2025-12-10: 5 message(s) through outbox edition=daily-2025-12-10 queued=5
// (JSON lines everywhere else: cron, systemd, CI, pipes). Kept apart from the
// logger so it is a pure function tests can call.

/**
 * Colours on or off for a stream. FORCE_COLOR wins (0/false = off, anything
 * else = on, as in Node itself); then NO_COLOR (any non-empty value = off,
 * no-color.org); then a dumb terminal; else colours when it is a terminal.
 */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR) return false;
  if (env.NODE_DISABLE_COLORS || env.TERM === 'dumb') return false;
  return isTTY;
}

const SGR = (code: string) => (s: string) => `\u001b[${code}m${s}\u001b[0m`;
const paint = {
  dim: SGR('2'),
  key: SGR('36'),
  levels: {
    10: SGR('2'),
    20: SGR('34'),
    30: SGR('32'),
    40: SGR('33'),
    50: SGR('31'),
    60: SGR('1;31'),
  } as Record<number, (s: string) => string>,
};
const LABELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);
/** An object field longer than this is shown by its size only: the JSON log keeps it whole. */
const MAX_VALUE = 120;

const bare = (s: string) => /^[^\s="'{}[\]\u0000-\u001f]+$/.test(s);

/** A compact rendering: plain words bare, anything else as JSON (keys unquoted when they can be). */
function show(v: unknown): string {
  if (typeof v === 'string') return bare(v) ? v : JSON.stringify(v);
  if (typeof v !== 'object' || v === null) return String(v);
  const s = JSON.stringify(v, (_k, x) => (x === null ? undefined : x)).replace(
    /"([A-Za-z_][\w-]*)":/g,
    '$1:',
  );
  if (s.length <= MAX_VALUE) return s;
  // Too long for a line (a whole send summary, say): name its size; the JSON log has it.
  return Array.isArray(v) ? `[…${v.length} items]` : `{…${Object.keys(v).length} fields}`;
}

interface SerializedError {
  message?: string;
  code?: string;
  stack?: string;
}

const two = (n: number) => String(n).padStart(2, '0');

/** One record (a parsed pino JSON line) as one terminal line (plus a stack with DEBUG). */
export function formatRecord(
  rec: Record<string, unknown>,
  opts: { colors: boolean; debug?: boolean },
): string {
  const c = opts.colors;
  const level = typeof rec.level === 'number' ? rec.level : 30;
  const t = new Date(typeof rec.time === 'number' ? rec.time : Date.now());
  const time = `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  const label = LABELS[level] ?? String(level);
  const parts = [
    c ? paint.dim(time) : time,
    c ? (paint.levels[level] ?? String)(label) : label,
    typeof rec.msg === 'string' ? rec.msg : '',
  ];
  let stack = '';
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k) || v === undefined || v === null) continue;
    let value: string;
    if (k === 'err' && typeof v === 'object') {
      const e = v as SerializedError;
      value = show(`${e.message ?? ''}${e.code ? ` (${e.code})` : ''}`);
      if (opts.debug && e.stack) stack = `\n${e.stack.replace(/^/gm, '    ')}`;
    } else value = show(v);
    parts.push(`${c ? paint.key(k) : k}=${value}`);
  }
  return parts.filter(Boolean).join(' ') + stack;
}
