// Bytes → text. Feeds still arrive in legacy encodings (Hong Kong papers ship
// Big5), so the charset is detected the way RFC 7303 orders it: byte-order mark,
// then the HTTP Content-Type charset, then the XML declaration, then UTF-8.
import iconv from 'iconv-lite';
import { BroadsheetError } from '../../errors/index.ts';

// Node's TextDecoder('big5') follows the WHATWG table, which maps HKSCS
// characters such as 啲 to private-use code points; iconv-lite's big5hkscs
// table decodes them to the real Unicode characters, so every Big5 label goes there.
const BIG5_LABELS = new Set(['big5', 'big5-hkscs', 'big5hkscs', 'cn-big5', 'csbig5', 'x-x-big5', 'x-big5']);

export interface Decoded {
  text: string;
  /** The encoding actually used, for logs and --json. */
  encoding: string;
}

/** The charset parameter of a Content-Type header, lower-cased, if any. */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}

function bomEncoding(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  return undefined;
}

/** The encoding named in `<?xml ... encoding="..."?>`; the declaration is ASCII in every charset we accept. */
function xmlDeclEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1');
  const m = /^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head);
  return m?.[1]?.toLowerCase();
}

/**
 * Decode feed bytes. `contentType` is the HTTP header when fetched. JSON Feed is
 * UTF-8 by its spec unless the server says otherwise.
 */
export function decodeFeed(bytes: Uint8Array, source: string, contentType?: string | null): Decoded {
  const label = bomEncoding(bytes) ?? charsetOf(contentType) ?? xmlDeclEncoding(bytes) ?? 'utf-8';
  const encoding = BIG5_LABELS.has(label) ? 'big5hkscs' : label;
  if (encoding === 'utf-8' || encoding === 'utf8') {
    // TextDecoder drops the BOM; invalid bytes become U+FFFD rather than failing the feed.
    return { text: new TextDecoder('utf-8').decode(bytes), encoding: 'utf-8' };
  }
  if (!iconv.encodingExists(encoding)) {
    throw new BroadsheetError('FEED_INVALID', {
      source,
      detail: `unsupported character encoding "${label}"`,
    });
  }
  return { text: iconv.decode(Buffer.from(bytes), encoding), encoding };
}
