import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A test CA and certificates made with the system's openssl (node:crypto can
// make keys but cannot sign X.509). Callers guard with needs('openssl', 'openssl').

export interface TestPki {
  dir: string;
  /** The CA certificate the client is told to trust (SMTP_URL ?ca=<caFile>). */
  caFile: string;
  /** Signed by the CA for 127.0.0.1 and localhost: what a good server presents. */
  good: { key: Buffer; cert: Buffer };
  /** Signed by the CA for another name: a name mismatch when reached as 127.0.0.1. */
  wrongName: { key: Buffer; cert: Buffer };
  /** Self-signed for 127.0.0.1: signed by nobody the client trusts. */
  selfSigned: { key: Buffer; cert: Buffer };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'bs-pki-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    ...EC,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Broadsheet Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, san: string) => {
    ssl('req', ...EC, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
    writeFileSync(f(`${name}.ext`), `basicConstraints=CA:FALSE\nsubjectAltName=${san}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-out',
      f(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      f(`${name}.ext`),
    );
    return { key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.pem`)) };
  };
  const good = leaf('good', 'IP:127.0.0.1,DNS:localhost');
  const wrongName = leaf('wrong', 'DNS:mail.elsewhere.example');
  ssl(
    'req',
    '-x509',
    ...EC,
    '-keyout',
    f('self.key'),
    '-out',
    f('self.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  );
  const selfSigned = { key: readFileSync(f('self.key')), cert: readFileSync(f('self.pem')) };
  return { dir, caFile: f('ca.pem'), good, wrongName, selfSigned };
}
