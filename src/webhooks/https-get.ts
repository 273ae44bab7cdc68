import { request } from 'node:https';
import { rootCertificates } from 'node:tls';

// One bounded HTTPS GET for the SNS signing certificate and SubscribeURL: no
// redirects, a deadline for the whole exchange, a streamed size cap. An extra
// CA (tests: a loopback server with a test CA) is trusted besides the system's.

export interface GetOptions {
  timeoutMs: number;
  maxBytes: number;
  ca?: string;
}

export function httpsGet(url: URL, o: GetOptions): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, v?: { status: number; body: Buffer }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v!);
    };
    const req = request(
      url,
      {
        method: 'GET',
        headers: { accept: '*/*', 'user-agent': 'broadsheet-webhooks' },
        ...(o.ca ? { ca: [...rootCertificates, o.ca] } : {}),
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? Number.NaN);
        if (declared > o.maxBytes) {
          req.destroy();
          return done(new Error(`larger than ${o.maxBytes} bytes (Content-Length ${declared})`));
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > o.maxBytes) {
            req.destroy();
            return done(new Error(`larger than ${o.maxBytes} bytes`));
          }
          chunks.push(c);
        });
        res.on('end', () => done(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', (e) => done(e));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(new Error(`no answer within ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    req.on('error', (e) => done(e));
    req.end();
  });
}
