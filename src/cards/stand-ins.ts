import type { CardChild, CardNode } from './layout-api.ts';

// satori needs only the natural size of a photo or portrait (a data: URL of
// 10–100 KB): it decodes the whole base64 to read it, and writes the URL into
// the SVG, which the overflow check, the mask pruning and the rasterizer's
// parser then scan again. So satori is given a stand-in: a PNG header of the
// same size, ~60 characters, unique to the image; the real URL is put back in
// the finished SVG. The size is read as satori reads it (its
// handler/image.ts parseJPEG and parsePNG, quirks included), from the first
// bytes only; an image whose size is not there keeps its URL. The SVG is the
// same either way (tests/integration/cards-text-layout.test.ts).

const PREFIX_CHARS = 8192; // base64 characters decoded to find the size (6 KB)
let serial = 0;

/** satori's parseJPEG: [width, height] from the segment after the one at `offset`, as it walks them. */
function jpegSize(b: Buffer): [number, number] | undefined {
  let offset = 4;
  while (offset + 2 <= b.length) {
    const i = b.readUInt16BE(offset);
    if (i + 1 + offset >= b.length) return undefined; // past what was decoded (or satori would throw)
    const next = b[i + 1 + offset];
    if (next === 0xc0 || next === 0xc1 || next === 0xc2) {
      if (i + 9 + offset > b.length) return undefined;
      return [b.readUInt16BE(i + 7 + offset), b.readUInt16BE(i + 5 + offset)];
    }
    offset += i + 2;
  }
  return undefined;
}

/** The natural size satori would read from a JPEG or PNG data: URL, or undefined. */
export function dataUrlSize(src: string): [number, number] | undefined {
  const m = /^data:image\/(jpeg|png);base64,/.exec(src);
  if (!m) return undefined;
  const body = src.slice(m[0].length, m[0].length + PREFIX_CHARS);
  const b = Buffer.from(body.slice(0, body.length - (body.length % 4)), 'base64');
  if (m[1] === 'png') return b.length >= 24 ? [b.readUInt16BE(18), b.readUInt16BE(22)] : undefined;
  return jpegSize(b);
}

/** A PNG signature and IHDR of `w`×`h`, then a serial number: a URL no other image has. */
function standIn(w: number, h: number): string {
  const b = Buffer.alloc(41);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b[24] = 8;
  b[25] = 6;
  b.writeDoubleBE(++serial, 33);
  return `data:image/png;base64,${b.toString('base64')}`;
}

/**
 * The tree with each image's data: URL replaced by a stand-in, and the
 * function that puts the URLs back into an SVG of it; `tree` is not changed.
 */
export function standInImages(tree: CardNode): { tree: CardNode; restore: (svg: string) => string } {
  const real = new Map<string, string>();
  const visit = (node: CardNode): CardNode => {
    const src = node.props.src;
    if (node.type === 'img' && typeof src === 'string') {
      const size = dataUrlSize(src);
      if (!size) return node;
      const s = standIn(size[0], size[1]);
      real.set(s, src);
      return { ...node, props: { ...node.props, src: s } };
    }
    const kids = node.props.children;
    if (!Array.isArray(kids)) return kids && typeof kids === 'object' ? swap(node, [kids]) : node;
    return swap(node, kids);
  };
  const swap = (node: CardNode, kids: CardChild[]): CardNode => {
    let changed = false;
    const out = kids.map((c) => {
      if (!c || typeof c !== 'object' || Array.isArray(c)) return c;
      const v = visit(c as CardNode);
      if (v !== c) changed = true;
      return v;
    });
    return changed ? { ...node, props: { ...node.props, children: out } } : node;
  };
  const swapped = visit(tree);
  return {
    tree: swapped,
    restore: (svg) => {
      let out = svg;
      for (const [s, src] of real) out = out.split(s).join(src);
      return out;
    },
  };
}
