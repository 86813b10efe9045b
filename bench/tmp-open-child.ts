import { Client } from 'pg';
void (async () => {
  const url = process.env.ADAPTIVE_CATALOG_URL!;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const c = new Client({ connectionString: url });
    await c.connect();
    console.log('pg connect', i, (performance.now() - t0).toFixed(1));
    await c.end();
  }
  const { webcrypto } = await import('node:crypto');
  let t0 = performance.now();
  const key = await webcrypto.subtle.importKey('raw', Buffer.from('pw'), 'PBKDF2', false, ['deriveBits']);
  await webcrypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: Buffer.from('salt'), iterations: 4096 }, key, 256);
  console.log('webcrypto pbkdf2 (warm)', (performance.now() - t0).toFixed(1));
  const { pbkdf2Sync } = await import('node:crypto');
  t0 = performance.now();
  pbkdf2Sync('pw', 'salt', 4096, 32, 'sha256');
  console.log('pbkdf2Sync', (performance.now() - t0).toFixed(1));
  process.exit(0);
})();
