import { createRequire } from 'node:module';
import { loadFonts } from './fonts.ts';

// HarfBuzz's copies of the two primary faces and the shaping both the
// rasterizer (raster.ts) and the text layout (text-layout.ts) use: the same
// harfbuzzjs build and calls satori shapes with, so advances and glyph ids
// agree with satori's to the unit.

const require = createRequire(import.meta.url);

interface HbBlob {
  destroy(): void;
}
interface HbFace {
  destroy(): void;
}
interface HbFont {
  setScale(x: number, y: number): void;
  glyphToPath(gid: number): string;
  glyphExtents(gid: number): { xBearing: number; yBearing: number; width: number; height: number } | null;
}
interface HbBuffer {
  addText(text: string): void;
  guessSegmentProperties(): void;
  json(): { g: number; cl: number; ax: number; dx: number; dy: number }[];
  destroy(): void;
}
export interface Hb {
  createBlob(data: Uint8Array): HbBlob;
  createFace(blob: HbBlob, index: number): HbFace;
  createFont(face: HbFace): HbFont;
  createBuffer(): HbBuffer;
  shape(font: HbFont, buffer: HbBuffer, features?: string): void;
}

// satori depends on this exact package (and version) for its own shaping.
export const hbReady = require('harfbuzzjs') as Promise<Hb>;

export interface Face {
  font: HbFont;
  upem: number;
  shapes: Map<string, Shaped>;
}
/** A shaped segment, in font units: glyph id, pen offset (x, y) and cluster per glyph. */
export interface Shaped {
  g: Int32Array;
  x: Float64Array;
  y: Float64Array;
  cl: Int32Array;
  ax: Float64Array;
}

let faces: Promise<Map<number, Face>> | undefined;
export function loadFaces(): Promise<Map<number, Face>> {
  faces ??= hbReady.then((hb) => {
    const m = new Map<number, Face>();
    for (const f of loadFonts()) {
      const blob = hb.createBlob(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength));
      const face = hb.createFace(blob, 0);
      const font = hb.createFont(face);
      face.destroy();
      blob.destroy();
      const upem = f.metrics.unitsPerEm;
      font.setScale(upem, upem);
      m.set(f.weight, { font, upem, shapes: new Map() });
    }
    return m;
  });
  return faces;
}

export function shape(hb: Hb, face: Face, text: string): Shaped {
  let s = face.shapes.get(text);
  if (!s) {
    const buf = hb.createBuffer();
    try {
      buf.addText(text);
      buf.guessSegmentProperties();
      hb.shape(face.font, buf);
      const gl = buf.json();
      s = {
        g: new Int32Array(gl.length),
        x: new Float64Array(gl.length),
        y: new Float64Array(gl.length),
        cl: new Int32Array(gl.length),
        ax: new Float64Array(gl.length),
      };
      for (let i = 0; i < gl.length; i++) {
        const q = gl[i]!;
        s.g[i] = q.g;
        s.x[i] = q.dx;
        s.y[i] = q.dy;
        s.cl[i] = q.cl;
        s.ax[i] = q.ax;
      }
    } finally {
      buf.destroy();
    }
    if (face.shapes.size > 4096) face.shapes.clear();
    face.shapes.set(text, s);
  }
  return s;
}
