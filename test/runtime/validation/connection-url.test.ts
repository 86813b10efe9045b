import { describe, it, expect } from 'vitest';
import { PostgresUrlError, parsePostgresUrl, toTargetConfig, checkTargetInput, UNKNOWN, type TargetInput } from '../../../src/runtime/validation';
import { CONNECTION_URL_KEYWORDS } from '../../../src/runtime/validation/target-url';

const KEYWORDS = ['host', 'port', 'dbname', 'user', 'password', 'sslmode'];
const parse = (url: string) => parsePostgresUrl(url, KEYWORDS, 'EXAMPLE');
function refusal(url: string): string {
  try {
    parse(url);
  } catch (err) {
    if (err instanceof PostgresUrlError) return err.message;
    throw err;
  }
  throw new Error('expected a PostgresUrlError');
}

describe('parsePostgresUrl (libpq rules)', () => {
  it('percent-decodes every part, keeps a + as a plus, and unwraps an IPv6 host', () => {
    expect(parse('postgres://us%40er:p%2Fw+d%25@[2001:db8::1]:6543/my%20db?sslmode=require')).toEqual({
      host: '2001:db8::1',
      port: 6543,
      database: 'my db',
      user: 'us@er',
      password: 'p/w+d%',
      params: { sslmode: 'require' },
    });
  });

  it('takes both schemes, leaves absent parts undefined (defaults are the caller’s)', () => {
    expect(parse('postgresql://db.example.com')).toEqual({ host: 'db.example.com', params: {} });
    expect(parse('postgres://')).toEqual({ params: {} });
  });

  it("merges libpq's part keywords, decoded, into the parts", () => {
    expect(parse('postgres:///app?host=%2Fvar%2Frun%2Fpostgresql&port=5433&user=admin&password=a%26b')).toEqual({
      host: '/var/run/postgresql',
      port: 5433,
      database: 'app',
      user: 'admin',
      password: 'a&b',
      params: {},
    });
  });

  it.each([
    ['not a url', /^is not a URL; EXAMPLE$/],
    ['mysql://u@h/db', /^must be a postgres:\/\/ or postgresql:\/\/ URL, not mysql:\/\//],
    ['postgres:h/db', /^must start with postgres:\/\//],
    ['postgres://h/db#x', /#fragment/],
    ['postgres://h/a/b', /several parts/],
    ['postgres://h:70000/db', /^is not a URL/],
    ['postgres://h/db?port=0', /parameter 'port' that is not a port number/],
    ['postgres://h/db?ssl=true', /^has the unknown parameter 'ssl'; accepted: host, port, dbname, user, password, sslmode$/],
    ['postgres://h/db?sslmode=require&sslmode=disable', /gives the parameter 'sslmode' twice/],
    ['postgres://u@h/db?user=v', /gives the user name twice: in the URL and as the parameter 'user'/],
    ['postgres://h/db?sslmode', /'sslmode' without a value/],
    ['postgres://u:%zz@h/db', /badly percent-encoded password/],
  ])('refuses %s', (url, message) => {
    expect(refusal(url)).toMatch(message);
  });

  it('never repeats the URL or its password in a message', () => {
    for (const url of ['postgres://u:hunter2@h/db?ssl=1', 'postgres://u:hunter2@h/a/b', 'postgres://u:hunter2@h/db#frag', 'mysql://u:hunter2@h/db']) {
      expect(refusal(url)).not.toContain('hunter2');
    }
  });
});

const URL_BASE: TargetInput = {
  type: 'postgres',
  name: 'postgres-url',
  connection_url: 'postgresql://admin:s%40cret@[::1]:6432/production?sslmode=require&application_name=ops&connect_timeout=7',
};

describe('adaptive_resource.connection_url', () => {
  it('stands for host, port, database, user, password, sslmode, application_name, connect_timeout', () => {
    expect(checkTargetInput(URL_BASE)).toEqual([]);
    expect(toTargetConfig(URL_BASE)).toEqual({
      name: 'postgres-url',
      host: '::1',
      port: 6432,
      database: 'production',
      username: 'admin',
      password: 's@cret',
      sslMode: 'require',
      applicationName: 'ops',
      connectTimeoutSeconds: 7,
    });
  });

  it('defaults like libpq: port 5432, sslmode prefer', () => {
    const config = toTargetConfig({ ...URL_BASE, connection_url: 'postgres://admin:pw@db.example.com/production' });
    expect(config).toMatchObject({ host: 'db.example.com', port: 5432, sslMode: 'prefer' });
  });

  it('accepts exactly the keywords it documents', () => {
    expect([...CONNECTION_URL_KEYWORDS]).toEqual(['host', 'port', 'dbname', 'user', 'password', 'sslmode', 'application_name', 'connect_timeout']);
  });

  it.each(['host', 'port', 'database_name', 'username', 'password', 'password_wo', 'ssl_mode'] as const)('refuses connection_url with %s, naming both', (field) => {
    const issues = checkTargetInput({ ...URL_BASE, [field]: field === 'port' ? '5432' : field === 'ssl_mode' ? 'require' : 'x' });
    expect(issues.some((i) => i.field === 'connection_url' && i.message.startsWith(`cannot be combined with ${field}:`))).toBe(true);
  });

  it('refuses application_name and connect_timeout only when the URL gives them too', () => {
    expect(checkTargetInput({ ...URL_BASE, connect_timeout: 3 })).toEqual([{ field: 'connection_url', message: "gives 'connect_timeout' and connect_timeout is set too: give it once" }]);
    const plain = { ...URL_BASE, connection_url: 'postgres://admin:pw@h/db' };
    expect(toTargetConfig({ ...plain, connect_timeout: 3, application_name: 'x' })).toMatchObject({ connectTimeoutSeconds: 3, applicationName: 'x' });
  });

  it.each([
    ['postgres://admin:pw@h/db?sslrootcert=/ca.crt', "has the unknown parameter 'sslrootcert'"],
    ['https://admin:pw@h/db', 'must be a postgres:// or postgresql:// URL, not https://'],
    ['postgres:///db?user=admin&password=pw', 'has no host'],
    ['postgres://admin:pw@h', 'has no database'],
    ['postgres://h/db', 'has no user'],
    ['postgres://admin:pw@h/db?sslmode=verify', "'sslmode' in it: \"verify\" is not an sslmode"],
    ['postgres://admin:pw@h1,h2/db', 'the host in it: "h1,h2" lists several hosts'],
    ['postgres://admin:pw@h/db?connect_timeout=0', "'connect_timeout' in it: \"0\" is out of range"],
  ])('refuses %s on connection_url', (url, message) => {
    const issues = checkTargetInput({ ...URL_BASE, connection_url: url });
    expect(issues.map((i) => i.field)).toContain('connection_url');
    expect(issues.find((i) => i.message.includes(message))?.field).toBe('connection_url');
    for (const i of issues) expect(i.message).not.toContain('pw@');
  });

  it('with use_aws_secrets the URL gives the address only', () => {
    const aws = { type: 'postgres', name: 'n', use_aws_secrets: true, aws_secret_name: 'creds' };
    expect(checkTargetInput({ ...aws, connection_url: 'postgres://h/db' })).toEqual([]);
    expect(checkTargetInput({ ...aws, connection_url: 'postgres://u:pw@h/db' }).map((i) => i.message)).toEqual([
      expect.stringMatching(/^gives a user although use_aws_secrets = true/),
      expect.stringMatching(/^gives a password although use_aws_secrets = true/),
    ]);
  });

  it('a refused URL is the only issue: what it stands for is not reported missing besides', () => {
    expect(checkTargetInput({ ...URL_BASE, connection_url: 'postgres://admin:pw@h:99999/db' }).map((i) => i.field)).toEqual(['connection_url']);
  });

  it('without connection_url, host and database_name are still required, naming the alternative', () => {
    const issues = checkTargetInput({ type: 'postgres', name: 'n', username: 'u', password: 'p' });
    expect(issues).toEqual([
      { field: 'host', message: 'is required; set the server host name, e.g. host = "db.example.com", or give connection_url' },
      { field: 'database_name', message: 'is required; set the database the admin connects to, e.g. database_name = "production", or give connection_url' },
    ]);
  });

  it('an unknown connection_url (plan time) skips the rules it would decide', () => {
    expect(checkTargetInput({ type: 'postgres', name: 'n', connection_url: UNKNOWN })).toEqual([]);
    expect(checkTargetInput({ type: 'postgres', name: 'n', connection_url: UNKNOWN, host: 'h' }).map((i) => i.field)).toEqual(['connection_url']);
  });
});

describe('adaptive_resource.tags', () => {
  const BASE: TargetInput = { type: 'postgres', name: 'n', host: 'h', database_name: 'd', username: 'u', password: 'p' };

  it('go to the TargetConfig as given; null values and an empty map give none', () => {
    expect(toTargetConfig({ ...BASE, tags: { owner: 'data-team', env: 'prod', gone: null } }).tags).toEqual({ owner: 'data-team', env: 'prod' });
    expect(toTargetConfig({ ...BASE, tags: {} })).not.toHaveProperty('tags');
    expect(toTargetConfig(BASE)).not.toHaveProperty('tags');
  });

  it('refuses too many, and keys and values out of bounds, on tags', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    expect(checkTargetInput({ ...BASE, tags: many })).toEqual([{ field: 'tags', message: 'has 51 tags; at most 50' }]);
    expect(checkTargetInput({ ...BASE, tags: { ['k'.repeat(129)]: 'v' } }).map((i) => i.field)).toEqual(['tags']);
    expect(checkTargetInput({ ...BASE, tags: { owner: 'a\nb' } })).toEqual([
      { field: 'tags["owner"]', message: 'is not accepted; a value has at most 256 characters and no control characters' },
    ]);
    expect(checkTargetInput({ ...BASE, tags: 'owner=me' as never }).map((i) => i.field)).toEqual(['tags']);
  });

  it('an unknown value (plan time) is skipped', () => {
    expect(checkTargetInput({ ...BASE, tags: { owner: UNKNOWN } })).toEqual([]);
    expect(checkTargetInput({ ...BASE, tags: UNKNOWN })).toEqual([]);
  });
});
