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

  it('survives values JSON cannot encode', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'trace', module: 'm', sink: (l) => lines.push(l) });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.info('odd values', { cycle, big: 10n, err: new Error('boom') });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ big: '10', err: { message: 'boom' }, cycle: { self: '[circular]' } });
  });
});
