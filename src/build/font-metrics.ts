/**
 * The metrics of a font file that `next/font` sizes a fallback font from: units per em, the
 * `hhea` ascender, descender and line gap, and the average advance width of a sample of Latin
 * text. Reads TrueType and OpenType files (OpenType spec, "Font file" and the `head`, `hhea`,
 * `hmtx` and `cmap` tables), WOFF 1.0 (W3C WOFF File Format 1.0: zlib-compressed tables) and
 * WOFF 2.0 (W3C WOFF File Format 2.0: one Brotli stream; the four tables read here are never
 * transformed but `hmtx`, whose advance widths its transform keeps as they are).
 *
 * The override values themselves follow Next.js's `getFallbackMetricsFromFontFile`
 * (next/dist/compiled/@next/font/dist/local), which reads the same fields with fontkit.
 */

import { brotliDecompressSync, inflateSync } from 'node:zlib';

export interface FontMetrics {
  unitsPerEm: number;
  /** `hhea` ascender, in font units. */
  ascent: number;
  /** `hhea` descender, in font units (negative below the baseline). */
  descent: number;
  /** `hhea` line gap, in font units. */
  lineGap: number;
  /** The average advance width of {@link AVERAGE_SAMPLE}, in font units; undefined without `hmtx`/`cmap`. */
  averageWidth: number | undefined;
}

/** Next.js's sample for the average character width: letter frequencies and word lengths of Latin text. */
const AVERAGE_SAMPLE = 'aaabcdeeeefghiijklmnnoopqrrssttuvwxyz      ';

/** The tables of a font, by tag, each as its own (decompressed) bytes; `transformed` is WOFF2's. */
type Tables = Map<string, Buffer> & { transformed?: Set<string> };

/** WOFF2's known table tags, by the index its table directory flags hold (WOFF 2.0 §5.1). */
const WOFF2_TAGS = [
  'cmap', 'head', 'hhea', 'hmtx', 'maxp', 'name', 'OS/2', 'post', 'cvt ', 'fpgm', 'glyf', 'loca', 'prep', 'CFF ', 'VORG', 'EBDT',
  'EBLC', 'gasp', 'hdmx', 'kern', 'LTSH', 'PCLT', 'VDMX', 'vhea', 'vmtx', 'BASE', 'GDEF', 'GPOS', 'GSUB', 'EBSC', 'JSTF', 'MATH',
  'CBDT', 'CBLC', 'COLR', 'CPAL', 'SVG ', 'sbix', 'acnt', 'avar', 'bdat', 'bloc', 'bsln', 'cvar', 'fdsc', 'feat', 'fmtx', 'fvar',
  'gvar', 'hsty', 'just', 'lcar', 'mort', 'morx', 'opbd', 'prop', 'trak', 'Zapf', 'Silf', 'Glat', 'Gloc', 'Feat', 'Sill',
]; // biome-ignore format: the spec's table, 16 a row

function sfntTables(data: Buffer): Tables {
  const tables: Tables = new Map();
  const count = data.readUInt16BE(4);
  for (let i = 0; i < count; i++) {
    const record = 12 + 16 * i;
    const offset = data.readUInt32BE(record + 8);
    tables.set(data.toString('latin1', record, record + 4), data.subarray(offset, offset + data.readUInt32BE(record + 12)));
  }
  return tables;
}

function woffTables(data: Buffer): Tables {
  const tables: Tables = new Map();
  const count = data.readUInt16BE(12);
  for (let i = 0; i < count; i++) {
    const entry = 44 + 20 * i;
    const offset = data.readUInt32BE(entry + 4);
    const compressed = data.readUInt32BE(entry + 8);
    const original = data.readUInt32BE(entry + 12);
    const bytes = data.subarray(offset, offset + compressed);
    tables.set(data.toString('latin1', entry, entry + 4), compressed < original ? inflateSync(bytes) : bytes);
  }
  return tables;
}

function woff2Tables(data: Buffer): Tables {
  const count = data.readUInt16BE(12);
  const compressedSize = data.readUInt32BE(20);
  let at = 48;
  /** UIntBase128 (WOFF 2.0 §4.1). */
  const base128 = () => {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const byte = data[at++]!;
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('invalid UIntBase128 in the WOFF2 table directory');
  };
  const directory: { tag: string; length: number }[] = [];
  const transformedTags = new Set<string>();
  for (let i = 0; i < count; i++) {
    const flags = data[at++]!;
    let tag = WOFF2_TAGS[flags & 0x3f];
    if ((flags & 0x3f) === 0x3f) {
      tag = data.toString('latin1', at, at + 4);
      at += 4;
    }
    if (tag === undefined) throw new Error('unknown table in the WOFF2 table directory');
    const version = flags >> 6;
    let length = base128();
    // glyf and loca are transformed unless their version is 3; the other tables when it is not 0.
    const transformed = tag === 'glyf' || tag === 'loca' ? version !== 3 : version !== 0;
    if (transformed) {
      length = base128();
      transformedTags.add(tag);
    }
    directory.push({ tag, length });
  }
  // A collection (flavor ttcf) has a collection directory here; isr reads single fonts only.
  if (data.toString('latin1', 4, 8) === 'ttcf') throw new Error('WOFF2 font collections are not read');
  const stream = brotliDecompressSync(data.subarray(at, at + compressedSize));
  const tables: Tables = Object.assign(new Map<string, Buffer>(), { transformed: transformedTags });
  let offset = 0;
  for (const { tag, length } of directory) {
    tables.set(tag, stream.subarray(offset, offset + length));
    offset += length;
  }
  return tables;
}

/** The glyph of each code point, from the best Unicode subtable of `cmap` (formats 4 and 12). */
function glyphLookup(cmap: Buffer): ((codePoint: number) => number) | undefined {
  const subtables = new Map<string, number>();
  for (let i = 0; i < cmap.readUInt16BE(2); i++) {
    const record = 4 + 8 * i;
    subtables.set(`${cmap.readUInt16BE(record)}/${cmap.readUInt16BE(record + 2)}`, cmap.readUInt32BE(record + 4));
  }
  for (const key of ['3/10', '0/6', '0/4', '3/1', '0/3', '0/2', '0/1', '0/0']) {
    const offset = subtables.get(key);
    if (offset === undefined) continue;
    const table = cmap.subarray(offset);
    const format = table.readUInt16BE(0);
    if (format === 12) {
      const groups = table.readUInt32BE(12);
      return (codePoint) => {
        for (let g = 0; g < groups; g++) {
          const at = 16 + 12 * g;
          const start = table.readUInt32BE(at);
          if (codePoint >= start && codePoint <= table.readUInt32BE(at + 4)) return table.readUInt32BE(at + 8) + codePoint - start;
        }
        return 0;
      };
    }
    if (format === 4) {
      const segments = table.readUInt16BE(6) / 2;
      const ends = 14;
      const starts = ends + 2 * segments + 2;
      const deltas = starts + 2 * segments;
      const rangeOffsets = deltas + 2 * segments;
      return (codePoint) => {
        for (let s = 0; s < segments; s++) {
          if (codePoint > table.readUInt16BE(ends + 2 * s)) continue;
          const start = table.readUInt16BE(starts + 2 * s);
          if (codePoint < start) return 0;
          const delta = table.readInt16BE(deltas + 2 * s);
          const rangeOffset = table.readUInt16BE(rangeOffsets + 2 * s);
          if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
          const glyph = table.readUInt16BE(rangeOffsets + 2 * s + rangeOffset + 2 * (codePoint - start));
          return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
        }
        return 0;
      };
    }
  }
  return undefined;
}

/**
 * The metrics of the font file `data` (TrueType, OpenType, WOFF or WOFF2).
 * @throws Error when the file is not one of those formats or lacks `head` or `hhea`.
 */
export function fontMetrics(data: Buffer): FontMetrics {
  const signature = data.toString('latin1', 0, 4);
  const tables =
    signature === 'wOFF'
      ? woffTables(data)
      : signature === 'wOF2'
        ? woff2Tables(data)
        : signature === 'OTTO' || signature === 'true' || data.readUInt32BE(0) === 0x00010000
          ? sfntTables(data)
          : undefined;
  if (tables === undefined) throw new Error('not a TrueType, OpenType, WOFF or WOFF2 font');
  const head = tables.get('head');
  const hhea = tables.get('hhea');
  if (head === undefined || hhea === undefined) throw new Error('the font has no head or hhea table');
  const metrics = {
    unitsPerEm: head.readUInt16BE(18),
    ascent: hhea.readInt16BE(4),
    descent: hhea.readInt16BE(6),
    lineGap: hhea.readInt16BE(8),
  };
  const hmtx = tables.get('hmtx');
  const cmap = tables.get('cmap');
  const glyphOf = cmap && glyphLookup(cmap);
  if (hmtx === undefined || glyphOf === undefined) return { ...metrics, averageWidth: undefined };
  const advances = hhea.readUInt16BE(34);
  // A transformed WOFF2 hmtx starts with one flags byte, then the same advance widths.
  const transformedHmtx = tables.transformed?.has('hmtx') === true;
  const first = transformedHmtx ? 1 : 0;
  const step = transformedHmtx ? 2 : 4;
  const advanceOf = (glyph: number) => hmtx.readUInt16BE(first + step * Math.min(glyph, advances - 1));
  const characters = [...AVERAGE_SAMPLE];
  const total = characters.reduce((sum, character) => sum + advanceOf(glyphOf(character.codePointAt(0)!)), 0);
  return { ...metrics, averageWidth: total / characters.length };
}

/** A fallback font's `@font-face` overrides, as CSS percentages. */
export interface FallbackMetrics {
  fallbackFont: 'Arial' | 'Times New Roman';
  ascentOverride: string;
  descentOverride: string;
  lineGapOverride: string;
  sizeAdjust: string;
}

/** Arial's and Times New Roman's average width of {@link AVERAGE_SAMPLE} per unit of em (Next.js's constants). */
const FALLBACKS = {
  'sans-serif': { name: 'Arial', averageWidth: 934.5116279069767 / 2048 },
  serif: { name: 'Times New Roman', averageWidth: 854.3953488372093 / 2048 },
} as const;

const percent = (value: number) => `${Math.abs(value * 100).toFixed(2)}%`;

/**
 * The overrides that make `category`'s system font (Arial, Times New Roman) take the space of the
 * font of `metrics`: `size-adjust` matches the average width, the others the vertical metrics
 * (https://developer.chrome.com/blog/font-fallbacks/), as Next.js computes them.
 */
export function fallbackMetrics(metrics: FontMetrics, category: 'sans-serif' | 'serif'): FallbackMetrics {
  const fallback = FALLBACKS[category];
  const sizeAdjust = metrics.averageWidth ? metrics.averageWidth / metrics.unitsPerEm / fallback.averageWidth : 1;
  const scaled = (value: number) => percent(value / (metrics.unitsPerEm * sizeAdjust));
  return {
    fallbackFont: fallback.name,
    ascentOverride: scaled(metrics.ascent),
    descentOverride: scaled(metrics.descent),
    lineGapOverride: scaled(metrics.lineGap),
    sizeAdjust: percent(sizeAdjust),
  };
}
