import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/runtime/types';
import { UNKNOWN } from '../../../src/runtime/validation';
import {
  checkSessionSettings,
  checkSessionSettingsValues,
  parseSessionDuration,
  parseSessionSettings,
  sessionSettingsInput,
  sessionSettingsVersionIssues,
} from '../../../src/runtime/validation/session-settings';
import { searchPathNames, sessionSettingsDrift } from '../../../src/runtime/service/session-drift';

/** Each issue as `field: message`. */
function problems(input: Parameters<typeof checkSessionSettings>[0]): string[] {
  return checkSessionSettings(input).map((i) => `${i.field}: ${i.message}`);
}

describe('session durations', () => {
  it.each([
    ['30s', 30],
    ['5m', 300],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2d', 172_800],
    ['24d', 24 * 86_400],
    ['0', 0],
    ['0s', 0],
  ])('accepts %s as %i seconds', (text, seconds) => {
    expect(parseSessionDuration(text, 'statement_timeout')).toBe(seconds);
  });

  it.each([
    ['-5s', 'statement_timeout: "-5s" is negative; write a number and a unit, e.g. 30s, 5m or 1h (units s, m, h, d; up to 24d), or 0 for no timeout'],
    ['5 minutes', 'statement_timeout: "5 minutes" is not a duration; write a number and a unit, e.g. 30s, 5m or 1h (units s, m, h, d; up to 24d), or 0 for no timeout'],
    ['5000', 'statement_timeout: "5000" has no unit (PostgreSQL would read milliseconds); write "5000s" for seconds, or write a number and a unit, e.g. 30s, 5m or 1h (units s, m, h, d; up to 24d), or 0 for no timeout'],
    ['500ms', 'statement_timeout: "500ms" is not a duration: unknown unit "ms"; write a number and a unit, e.g. 30s, 5m or 1h (units s, m, h, d; up to 24d), or 0 for no timeout'],
    ['25d', 'statement_timeout: "25d" is longer than PostgreSQL allows; write at most 24d, or 0 for no timeout'],
  ])('refuses %s naming the attribute', (text, message) => {
    expect(problems({ statement_timeout: text })).toEqual([message]);
    expect(() => parseSessionDuration(text, 'statement_timeout')).toThrow(ValidationError);
  });
});

describe('checkSessionSettings', () => {
  it('accepts a full set, and nothing at all', () => {
    const input = {
      search_path: ['$user', 'app', 'my-schema'],
      statement_timeout: '30s',
      idle_session_timeout: '10m',
      connection_limit: 3,
      timezone: 'Europe/Berlin',
      application_name: 'support desk',
    };
    expect(problems(input)).toEqual([]);
    expect(parseSessionSettings(input)).toEqual({
      searchPath: ['$user', 'app', 'my-schema'],
      statementTimeoutSeconds: 30,
      idleSessionTimeoutSeconds: 600,
      connectionLimit: 3,
      timezone: 'Europe/Berlin',
      applicationName: 'support desk',
    });
    expect(parseSessionSettings({})).toEqual({});
    expect(parseSessionSettings({ search_path: null, statement_timeout: null, connection_limit: null })).toEqual({});
  });

  it('skips values not known yet', () => {
    expect(problems({ search_path: UNKNOWN, statement_timeout: UNKNOWN, connection_limit: UNKNOWN })).toEqual([]);
    expect(problems({ search_path: ['app', UNKNOWN] })).toEqual([]);
  });

  it('refuses connection_limit 0 and -1 with what to write instead', () => {
    expect(problems({ connection_limit: 0 })).toEqual([
      'connection_limit: is 0, which would refuse every session of the members; write at least 1, or leave connection_limit out for no limit',
    ]);
    expect(problems({ connection_limit: -1 })).toEqual(['connection_limit: is -1; for no limit leave connection_limit out, otherwise write at least 1']);
    expect(problems({ connection_limit: 1.5 })).toEqual(['connection_limit: must be a whole number of sessions, at least 1, got 1.5']);
  });

  it('refuses a search path that is empty, repeats a schema, or names something that is not a schema', () => {
    expect(problems({ search_path: [] })).toEqual(['search_path: is an empty list; name at least one schema, or leave search_path out to keep the default']);
    expect(problems({ search_path: ['app', 'app'] })).toEqual(['search_path[1]: "app" is listed twice; name each schema once']);
    expect(problems({ search_path: ['app, public'] })[0]).toMatch(/^search_path\[0\]: "app, public" contains ','/);
    expect(problems({ search_path: ['x"; drop role y; --'] })[0]).toMatch(/^search_path\[0\]: .* contains a double quote/);
  });

  it('refuses a malformed time zone and application name', () => {
    expect(problems({ timezone: "UTC'; reset all" })[0]).toMatch(/^timezone: .* contains a single quote/);
    expect(problems({ application_name: 'caf\u00e9' })[0]).toMatch(/^application_name: contains 'é'; PostgreSQL keeps only printable ASCII/);
  });

  it('checks the runtime form with the same rules (a caller of the runtime may skip the HCL spelling)', () => {
    expect(checkSessionSettingsValues({ statementTimeoutSeconds: -5, connectionLimit: 0 }).map((i) => i.field)).toEqual(['statement_timeout', 'connection_limit']);
    expect(checkSessionSettingsValues({ statementTimeoutSeconds: 5, searchPath: ['app'] })).toEqual([]);
  });

  it('writes the settings back as the attributes, timeouts canonical', () => {
    expect(sessionSettingsInput({ statementTimeoutSeconds: 90, idleSessionTimeoutSeconds: 0 })).toMatchObject({ statement_timeout: '1m30s', idle_session_timeout: '0' });
  });
});

describe('sessionSettingsVersionIssues', () => {
  it('refuses idle_session_timeout before PostgreSQL 14, naming the attribute, the resource and the version', () => {
    expect(sessionSettingsVersionIssues({ idleSessionTimeoutSeconds: 60 }, 130_011, 'legacy')).toEqual([
      {
        field: 'idle_session_timeout',
        message: 'needs PostgreSQL 14 or later, and resource "legacy" runs PostgreSQL 13; leave idle_session_timeout out for this endpoint (nothing was changed)',
      },
    ]);
    expect(sessionSettingsVersionIssues({ idleSessionTimeoutSeconds: 60 }, 140_000, 'new')).toEqual([]);
    expect(sessionSettingsVersionIssues({ statementTimeoutSeconds: 60 }, 130_011, 'legacy')).toEqual([]);
  });
});

describe('session settings drift', () => {
  it('reads a search path as rolconfig holds it', () => {
    expect(searchPathNames('"$user", app, "my-schema"')).toEqual(['$user', 'app', 'my-schema']);
    expect(searchPathNames('"a""b",c')).toEqual(['a"b', 'c']);
  });

  it('compares by meaning: 60000 (milliseconds) and 1min are 1m', () => {
    const config = new Map([
      ['statement_timeout', '60000'],
      ['idle_session_timeout', '1min'],
    ] as const);
    expect(sessionSettingsDrift({ roleName: 'r', config, connectionLimit: -1 }, { statementTimeoutSeconds: 60, idleSessionTimeoutSeconds: 60 })).toEqual([]);
    expect(sessionSettingsDrift({ roleName: 'r', config: new Map([['statement_timeout', '0']]), connectionLimit: 3 }, { statementTimeoutSeconds: 5 })).toEqual([
      'login role "r": statement_timeout is 0, want 5s',
      'login role "r": connection_limit is 3, want no limit',
    ]);
  });
});
