/**
 * The hand-built certificate: node:crypto must parse every one, as a CA for localhost,
 * over many generations (a random serial with its top bit set used to break 1 in 256).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { generateServerCertificate } from '../../src/provider/cert';
import { clientIdentity } from './support';
import { oid, smallInteger, time, unsignedInteger } from '../../src/provider/der';

describe('DER building blocks', () => {
  it('encodes INTEGERs minimally and never negative', () => {
    expect(unsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    expect(unsignedInteger(Buffer.from([0x00, 0x00, 0x7f])).toString('hex')).toBe('02017f');
    expect(unsignedInteger(Buffer.from([0x00, 0x00])).toString('hex')).toBe('020100');
    expect(unsignedInteger(Buffer.from([0x00, 0xff, 0x01])).toString('hex')).toBe('020300ff01');
    expect(smallInteger(2).toString('hex')).toBe('020102');
  });

  it('encodes object identifiers with multi-byte arcs', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(oid('2.5.29.17').toString('hex')).toBe('0603551d11');
  });

  it('uses UTCTime before 2050 and GeneralizedTime from 2050', () => {
    expect(time(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))).toString('ascii', 2)).toBe('260102030405Z');
    expect(time(new Date(Date.UTC(2051, 0, 2, 3, 4, 5)))[0]).toBe(0x18);
  });
});

describe('server certificate', () => {
  it('is a CA for DNS:localhost, self-signed and currently valid, over 600 generations', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const { der, keyPem } = generateServerCertificate();
      const cert = new X509Certificate(der);
      expect(cert.ca).toBe(true);
      expect(cert.subjectAltName).toBe('DNS:localhost');
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
      expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now());
      expect(Date.parse(cert.validTo)).toBeGreaterThan(Date.now());
      serials.add(cert.serialNumber);
    }
    expect(serials.size).toBe(600);
  });

  it('carries the key usages a TLS server and client need', () => {
    const cert = new X509Certificate(generateServerCertificate().der);
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.subject).toContain('CN=localhost');
    expect(cert.checkHost('localhost')).toBe('localhost');
  });
});

describe('mutual TLS with the generated certificates', () => {
  it('completes a verified handshake both ways, with a fresh server certificate each time (100 times)', async () => {
    const client = clientIdentity();
    const first = generateServerCertificate();
    const server = tls.createServer({ key: first.keyPem, cert: first.certPem, ca: client.certPem, requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 100; i++) {
        const identity = i === 0 ? first : generateServerCertificate();
        server.setSecureContext({ key: identity.keyPem, cert: identity.certPem, ca: client.certPem });
        // Like Terraform: trust exactly the certificate from the handshake line, for "localhost".
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: identity.certPem, key: client.keyPem, cert: client.certPem });
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
        await once(socket, 'end');
        expect(socket.authorized).toBe(true);
        expect(received).toBe('ok');
        socket.destroy();
      }
    } finally {
      server.close();
    }
  });
});
