// A glyph's coverage bitmap from its outline, for raster.ts's glyph cache.
//
// The same sampling as resvg's (tiny-skia's port of Skia's supersampling
// anti-aliasing, SHIFT 2): four sub-scanlines per pixel row, each sampled at
// its centre; an edge's crossing rounded to a quarter pixel; the spans where
// the non-zero winding rule says "inside" add 16 per covered quarter of a
// pixel, a whole pixel 64 (63 in a row's last sub-scanline, so four make
// 255). Curves are cut into lines first, within FLATNESS px of the curve.
//
// Before this, each glyph was drawn by resvg from an SVG of its path: an SVG
// parse, a canvas and a render per glyph, and a pool worker draws every glyph
// of its cards once (issue 16: the first pass over an edition spent 15 % of
// its CPU there). Same outline (HarfBuzz's), same transform, same sampling:
// only where resvg's own curve flattening puts a crossing on the other side
// of a quarter pixel does a pixel differ, by 16 of 255 (measured in
// tests/unit/glyph-fill.test.ts).

/** An outline in font units: commands M/L/Q/C/Z with their points, flat. */
export interface Outline {
  ops: Uint8Array;
  pts: Float64Array;
}

const M = 0;
const L = 1;
const Q = 2;
const C = 3;
const Z = 4;
const OPS: Record<string, [number, number]> = { M: [M, 2], L: [L, 2], Q: [Q, 4], C: [C, 6], Z: [Z, 0] };
/** Numbers a command takes, by op. */
const OP_POINTS = [2, 2, 4, 6, 0];

/** HarfBuzz's SVG path of a glyph (hb font glyphToPath: absolute M, L, Q, C, Z) as an Outline. */
export function parseOutline(path: string): Outline {
  const ops: number[] = [];
  const pts: number[] = [];
  for (const m of path.matchAll(/([MLQCZ])([^MLQCZ]*)/g)) {
    const [op, n] = OPS[m[1]!]!;
    const nums = m[2]!.trim()
      ? m[2]!
          .trim()
          .split(/[\s,]+/)
          .map(Number)
      : [];
    if (nums.length !== n || nums.some((v) => !Number.isFinite(v)))
      throw new Error(`bad glyph path: ${m[0]}`);
    ops.push(op);
    pts.push(...nums);
  }
  return { ops: Uint8Array.from(ops), pts: Float64Array.from(pts) };
}

/**
 * How far a flattened cubic may stray from the curve, in pixels. (Quadratics,
 * all a TrueType font has, are cut as Skia cuts them: see `quad`.)
 */
const FLATNESS = 0.05;

// An edge, flat in a number[]: x0, y0 (its upper end), dx/dy, direction
// (+1 down, −1 up), first sub-scanline, sub-scanline after its last.
const EDGE = 6;

/**
 * Coverage (0–255) of the outline drawn at x·sx + tx, y·sy + ty in a w×h
 * bitmap, row by row. Points outside the bitmap are allowed (clipped).
 */
export function fillOutline(
  o: Outline,
  sx: number,
  sy: number,
  tx: number,
  ty: number,
  w: number,
  h: number,
): Uint8Array {
  const rows = h * 4;
  const edges = flatten(o, sx, sy, tx, ty, rows);
  const n = edges.length / EDGE;
  // Edge offsets by first sub-scanline, then an active list kept in place.
  const order = new Int32Array(n);
  // By first sub-scanline: a counting sort (rows are few, edges many).
  const starts = new Int32Array(rows + 1);
  for (let i = 0; i < n; i++) starts[edges[i * EDGE + 4]! + 1] = starts[edges[i * EDGE + 4]! + 1]! + 1;
  for (let r = 0; r < rows; r++) starts[r + 1] = starts[r + 1]! + starts[r]!;
  for (let i = 0; i < n; i++) {
    const first = edges[i * EDGE + 4]!;
    order[starts[first]!] = i * EDGE;
    starts[first] = starts[first]! + 1;
  }
  const active = new Int32Array(n);
  const xs = new Int32Array(n);
  const ds = new Int8Array(n);
  const cov = new Uint8Array(w * h);
  const line = rowScratch(w);
  let next = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    while (next < n && edges[order[next]! + 4]! <= r) active[count++] = order[next++]!;
    let m = 0;
    for (let i = 0; i < count; i++) if (edges[active[i]! + 5]! > r) active[m++] = active[i]!;
    count = m;
    if (count) {
      const yc = (r + 0.5) / 4;
      let c = 0;
      for (let i = 0; i < count; i++) {
        const k = active[i]!;
        // The crossing at the sub-scanline's centre, in quarter pixels, rounded half up.
        const x = Math.floor((edges[k]! + (yc - edges[k + 1]!) * edges[k + 2]!) * 4 + 0.5);
        const d = edges[k + 3]!;
        // Insertion by x: a handful of crossings per sub-scanline.
        let j = c - 1;
        for (; j >= 0 && xs[j]! > x; j--) {
          xs[j + 1] = xs[j]!;
          ds[j + 1] = ds[j]!;
        }
        xs[j + 1] = x;
        ds[j + 1] = d;
        c++;
      }
      const full = 64 - (((r & 3) + 1) >> 2);
      let winding = 0;
      let start = 0;
      for (let i = 0; i < c; i++) {
        const was = winding;
        winding += ds[i]!;
        if (was === 0 && winding !== 0) start = xs[i]!;
        else if (was !== 0 && winding === 0) span(line, w, start, xs[i]!, full);
      }
    }
    if ((r & 3) === 3) {
      // The row's four sub-scanlines, summed from their deltas: at most
      // 256 (two spans' ends sharing a pixel in the last sub-scanline),
      // held as 255 as Skia's alpha runs do.
      const at = (r >> 2) * w;
      let sum = 0;
      for (let x = 0; x < w; x++) {
        sum += line[x]!;
        cov[at + x] = sum - (sum >> 8);
      }
      line.fill(0);
    }
  }
  return cov;
}

/**
 * Skia's SuperBlitter::blitH for the quarter-pixel span [start, stop) of one
 * sub-scanline: 16 a covered quarter at the ends, `full` for a whole pixel;
 * added as deltas (a running sum along the row gives the pixels).
 */
function span(line: Int32Array, w: number, start: number, stop: number, full: number) {
  if (start < 0) start = 0;
  if (stop > w * 4) stop = w * 4;
  if (stop <= start) return;
  let fb = start & 3;
  let fe = stop & 3;
  let n = (stop >> 2) - (start >> 2) - 1;
  let x = start >> 2;
  if (n < 0) {
    fb = fe - fb;
    n = 0;
    fe = 0;
  } else if (fb === 0) n += 1;
  else fb = 4 - fb;
  if (fb) {
    line[x] = line[x]! + fb * 16;
    x++;
    line[x] = line[x]! - fb * 16;
  }
  if (n > 0) {
    line[x] = line[x]! + full;
    x += n;
    line[x] = line[x]! - full;
  }
  if (fe) {
    line[x] = line[x]! + fe * 16;
    line[x + 1] = line[x + 1]! - fe * 16;
  }
}

let scratch = new Int32Array(0);
/** A zeroed row of w + 1 deltas (one buffer reused: glyphs are filled one at a time). */
function rowScratch(w: number): Int32Array {
  if (scratch.length < w + 1) scratch = new Int32Array(Math.max(w + 1, scratch.length * 2));
  const a = scratch.subarray(0, w + 1);
  a.fill(0);
  return a;
}

/** Skia's diff_to_shift with its anti-aliasing shift of 2: how many halvings bring a curve within its tolerance. */
function curveShift(dx: number, dy: number): number {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  let dist = ax > ay ? ax + (ay >> 1) : ay + (ax >> 1);
  dist = (dist + (1 << 4)) >> 5;
  return (32 - Math.clz32(dist)) >> 1;
}

/** Between outlines: nothing may be added to it (frozen, so a stray lineTo throws rather than keeps edges). */
const NO_EDGES: number[] = Object.freeze([]) as unknown as number[];
/** The pen and the edges so far, while one outline is flattened (one at a time: glyphs are filled one by one). */
const pen = { x: 0, y: 0, rows: 0, edges: NO_EDGES };

/** An edge from the pen to (x1, y1), which becomes the pen; none if it crosses no sub-scanline's centre. */
function lineTo(x1: number, y1: number): void {
  let x0 = pen.x;
  let y0 = pen.y;
  pen.x = x1;
  pen.y = y1;
  let dir = 1;
  if (y0 > y1) {
    dir = -1;
    const tx = x0;
    x0 = x1;
    x1 = tx;
    const ty = y0;
    y0 = y1;
    y1 = ty;
  }
  const first = Math.max(0, Math.floor(y0 * 4 + 0.5));
  const end = Math.min(pen.rows, Math.floor(y1 * 4 + 0.5));
  if (end <= first) return; // crosses no sub-scanline's centre
  pen.edges.push(x0, y0, (x1 - x0) / (y1 - y0), dir, first, end);
}

/** Quarter pixels in 26.6 fixed point. */
const fd = (v: number) => Math.trunc(v * 256);

/** A y-monotonic quad from the pen, in 2^shift lines (Skia's SkQuadraticEdge count). */
function quadTo(cx: number, cy: number, x2: number, y2: number): void {
  const x0 = pen.x;
  const y0 = pen.y;
  const dx = ((fd(cx) << 1) - fd(x0) - fd(x2)) >> 2;
  const dy = ((fd(cy) << 1) - fd(y0) - fd(y2)) >> 2;
  const shift = Math.min(6, Math.max(1, curveShift(dx, dy)));
  const k = 1 << shift;
  for (let j = 1; j <= k; j++) {
    const t = j / k;
    const u = 1 - t;
    lineTo(u * u * x0 + 2 * u * t * cx + t * t * x2, u * u * y0 + 2 * u * t * cy + t * t * y2);
  }
}

/**
 * The outline's edges in bitmap pixels (curves cut into lines), horizontal
 * ones dropped. No closure or array is made per command or per glyph beyond
 * the edges themselves: a pool worker flattens every glyph of its cards once,
 * mostly before V8 has optimized this code.
 */
function flatten(o: Outline, sx: number, sy: number, tx: number, ty: number, rows: number): number[] {
  const edges: number[] = [];
  pen.x = 0;
  pen.y = 0;
  pen.rows = rows;
  pen.edges = edges;
  let startX = 0;
  let startY = 0;
  let p = 0;
  const pts = o.pts;
  for (let i = 0; i < o.ops.length; i++) {
    const op = o.ops[i]!;
    const x0 = pen.x;
    const y0 = pen.y;
    // The command's coordinate pairs, in bitmap pixels.
    if (op === M) {
      if (pen.x !== startX || pen.y !== startY) lineTo(startX, startY);
      pen.x = startX = pts[p]! * sx + tx;
      pen.y = startY = pts[p + 1]! * sy + ty;
    } else if (op === L) lineTo(pts[p]! * sx + tx, pts[p + 1]! * sy + ty);
    else if (op === Q) {
      const cx = pts[p]! * sx + tx;
      const cy = pts[p + 1]! * sy + ty;
      const x2 = pts[p + 2]! * sx + tx;
      const y2 = pts[p + 3]! * sy + ty;
      // As Skia's edge builder: a quad is cut at its y extremum (both halves
      // monotonic in y, the extremum's y shared exactly), then each half into
      // 2^shift lines by its curvature in quarter pixels.
      const den = y0 - 2 * cy + y2;
      const t = den === 0 ? -1 : (y0 - cy) / den;
      if (t > 0 && t < 1) {
        const ax = x0 + (cx - x0) * t;
        const ay = y0 + (cy - y0) * t;
        const bx = cx + (x2 - cx) * t;
        const by = cy + (y2 - cy) * t;
        const mx = ax + (bx - ax) * t;
        const my = ay + (by - ay) * t;
        quadTo(ax, my, mx, my);
        quadTo(bx, my, x2, y2);
      } else quadTo(cx, cy, x2, y2);
    } else if (op === C) {
      const c1x = pts[p]! * sx + tx;
      const c1y = pts[p + 1]! * sy + ty;
      const c2x = pts[p + 2]! * sx + tx;
      const c2y = pts[p + 3]! * sy + ty;
      const x3 = pts[p + 4]! * sx + tx;
      const y3 = pts[p + 5]! * sy + ty;
      const dd = Math.max(
        Math.hypot(x0 - 2 * c1x + c2x, y0 - 2 * c1y + c2y),
        Math.hypot(c1x - 2 * c2x + x3, c1y - 2 * c2y + y3),
      );
      const k = Math.min(64, Math.max(1, Math.ceil(Math.sqrt((0.75 * dd) / FLATNESS))));
      for (let j = 1; j <= k; j++) {
        const t = j / k;
        const u = 1 - t;
        const a = u * u * u;
        const b = 3 * u * u * t;
        const c = 3 * u * t * t;
        const d = t * t * t;
        lineTo(a * x0 + b * c1x + c * c2x + d * x3, a * y0 + b * c1y + c * c2y + d * y3);
      }
    } else if (pen.x !== startX || pen.y !== startY) lineTo(startX, startY); // Z
    p += OP_POINTS[op]!;
  }
  if (pen.x !== startX || pen.y !== startY) lineTo(startX, startY);
  pen.edges = NO_EDGES; // the glyph's edges are not held past its fill
  return edges;
}
