import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

export interface TestCertificate {
  key: Buffer
  cert: Buffer
  /** The certificate's file: NODE_EXTRA_CA_CERTS for the CLI, so that it trusts the test server. */
  certFile: string
}

/**
 * A self-signed certificate for localhost (or `altNames`, openssl's subjectAltName list), made
 * with openssl in `dir`. Without openssl it throws: an https test that passed without running would hide a broken check (CI
 * installs openssl).
 */
export function makeTestCertificate(dir: string, altNames = 'DNS:localhost'): TestCertificate {
  const keyFile = path.join(dir, 'tls.key')
  const certFile = path.join(dir, 'tls.crt')
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        `subjectAltName=${altNames}`,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
  } catch (error) {
    throw new Error(
      `openssl could not make a test certificate (is it installed and on PATH?): ${(error as Error).message}`,
    )
  }
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile), certFile }
}
