/**
 * hclog JSON lines: the timestamp shape Terraform's parser insists on, levels from
 * TF_LOG / TF_LOG_PROVIDER, silence by default, and redaction of sensitive values.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, hclogTimestamp, levelFromEnv, Redactor } from '../../src/provider/log';

const HCLOG_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

describe('hclog logging', () => {
  it('formats timestamps with exactly six fractional digits', () => {
    expect(hclogTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5, 678) * 1000 + 901)).toBe('2024-01-02T03:04:05.678901Z');
    expect(hclogTimestamp(Date.UTC(2024, 0, 2, 3, 4, 5, 0) * 1000)).toBe('2024-01-02T03:04:05.000000Z');
    for (let i = 0; i < 1000; i++) expect(hclogTimestamp()).toMatch(HCLOG_TIME);
  });

  it('reads the level like Terraform: TF_LOG_PROVIDER over TF_LOG, off or unset is silent', () => {
    expect(levelFromEnv({})).toBeUndefined();
    expect(levelFromEnv({ TF_LOG: 'off' })).toBeUndefined();
    expect(levelFromEnv({ TF_LOG: 'DEBUG' })).toBe('debug');
    expect(levelFromEnv({ TF_LOG: 'json' })).toBe('trace');
    expect(levelFromEnv({ TF_LOG: 'nonsense' })).toBe('trace');
    expect(levelFromEnv({ TF_LOG: 'trace', TF_LOG_PROVIDER: 'warn' })).toBe('warn');
  });

  it('writes one JSON object per line with the hclog keys, filtered by level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', module: 'adaptive', sink: (l) => lines.push(l) });
    logger.debug('hidden');
    logger.with({ tf_rpc: 'ApplyResourceChange' }).warn('shown', { attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ '@level': 'warn', '@message': 'shown', '@module': 'adaptive', tf_rpc: 'ApplyResourceChange', attempt: 2 });
    expect(entry['@timestamp']).toMatch(HCLOG_TIME);
  });

  it('writes nothing at all without a level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: undefined, module: 'adaptive', sink: (l) => lines.push(l) });
    logger.error('nope');
    expect(lines).toEqual([]);
    expect(logger.enabled('error')).toBe(false);
  });

  it('never logs a registered secret, in the message or any field', () => {
    const lines: string[] = [];
    const redactor = new Redactor();
    const logger = createLogger({ level: 'trace', module: 'adaptive', sink: (l) => lines.push(l), redactor });
    redactor.add('hunter2-password');
    redactor.add('ab'); // too short to mask safely: ignored
    logger.info('connecting with hunter2-password', { dsn: 'postgres://u:hunter2-password@h/db', nested: { p: 'hunter2-password' }, ab: 'ab' });
    expect(lines.join('')).not.toContain('hunter2');
    expect(lines.join('')).toContain('(sensitive value)');
    expect(lines.join('')).toContain('"ab":"ab"');
  });

  describe('redaction of every form a secret takes in a line', () => {
    // A PEM key as `file("client-key.key")` hands it over: armour, 64-character base64 lines, a final newline.
    const pemBody = [
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
      'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
      'NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ',
      'qgtzJ6GR3eqoYSW9b9UMvkBpZODSctWSNGj3P7jRFDO5VoTwCQAWbFnOjDfH5Ulg',
    ];
    const pem = `-----BEGIN PRIVATE KEY-----\n${pemBody.join('\n')}\n-----END PRIVATE KEY-----\n`;
    // Every character JSON, URLs and shells treat specially.
    const password = `pa"ss\\wo'rd\nline two 100%`;

    /** The forms a string takes once escaped for a JSON string, once more, and in a URL. */
    function forms(secret: string): string[] {
      const json = (s: string): string => JSON.stringify(s).slice(1, -1);
      return [secret, json(secret), json(json(secret)), encodeURIComponent(secret)];
    }

    function logged(secret: string, write: (logger: ReturnType<typeof createLogger>) => void): string {
      const lines: string[] = [];
      const redactor = new Redactor();
      redactor.add(secret);
      write(createLogger({ level: 'trace', module: 'adaptive', sink: (l) => lines.push(l), redactor }));
      for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
      return lines.join('');
    }

    it('masks a multi-line PEM key in a field (JSON-escaped in the line), inside a JSON document, and line by line', () => {
      const log = logged(pem, (logger) => {
        logger.info('client key', { tls_key_file: pem });
        logger.info('target config', { config: JSON.stringify({ tlsClientKey: pem }) });
        logger.debug(`a line of the key on its own: ${pemBody[2]!}`);
        logger.debug('the key with CRLF line ends', { key: pem.replace(/\n/g, '\r\n') });
      });
      // Booleans, not the values: a failing assertion must not print the key.
      for (const line of pemBody) expect(log.includes(line), `body line ${pemBody.indexOf(line)} in the log`).toBe(false);
      expect(log).toContain('(sensitive value)');
    });

    it('masks a password with quotes, a backslash, a newline and % in raw, JSON-escaped and URL-encoded form', () => {
      const log = logged(password, (logger) => {
        logger.info(`raw in the message: ${password}`);
        logger.info('in a field', { password });
        logger.info('in a JSON document', { secret_json: JSON.stringify({ password }) });
        logger.info('in a connection URL', { url: `postgresql://admin:${encodeURIComponent(password)}@db:5432/app` });
        logger.info('in an error', { error: new Error(`login failed with ${password}`) });
      });
      for (const [i, form] of forms(password).entries()) expect(log.includes(form), `form ${i} in the log`).toBe(false);
      expect(log.includes('line two')).toBe(false);
      expect(log.split('(sensitive value)').length - 1).toBeGreaterThanOrEqual(5);
    });

    it('scrubs plain text (a diagnostic) of every form too', () => {
      const redactor = new Redactor();
      redactor.add(password);
      redactor.add(pem);
      const text = `login failed: ${password}\nkey: ${pem}\nurl: postgresql://u:${encodeURIComponent(password)}@h/db`;
      const scrubbed = redactor.scrub(text);
      for (const form of forms(password)) expect(scrubbed.includes(form)).toBe(false);
      for (const line of pemBody) expect(scrubbed.includes(line)).toBe(false);
      expect(scrubbed).toContain('login failed: (sensitive value)');
    });
  });

  it('survives values JSON cannot encode', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', module: 'm', sink: (l) => lines.push(l) });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.info('odd values', { cycle, big: 10n, err: new Error('boom') });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ big: '10', err: { message: 'boom' }, cycle: { self: '[circular]' } });
  });
});
