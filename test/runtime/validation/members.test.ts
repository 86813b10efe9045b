import { describe, it, expect } from 'vitest';
import { ValidationError } from '../../../src/runtime/types';
import { UNKNOWN, checkMember, checkMembers, normaliseMember, parseMembers } from '../../../src/runtime/validation';

describe('checkMember', () => {
  it.each([
    'dev1@company.com',
    'dev2@company.com',
    'analyst1@company.com',
    'analyst2@company.com',
    'first.last+db@sub.example.co.uk',
    "o'brien@example.ie",
    'user@xn--bcher-kva.example',
    'josé@bücher.de',
  ])('accepts %s', (email) => {
    expect(checkMember(email, 'members[0]')).toEqual([]);
  });

  it.each([
    ['not-an-email', /\(no '@'\)/],
    ['a@b@company.com', /more than one '@'/],
    ['dev 1@company.com', /contains a space/],
    [' dev1@company.com', /contains a space/],
    ['dev1@company', /domain without a dot/],
    ['@company.com', /nothing before the '@'/],
    ['dev1@', /no domain after the '@'/],
    ['dev1@company..com', /invalid domain/],
    ['dev1@-company.com', /invalid domain/],
    ['.dev1@company.com', /misplaced '\.'/],
    ['dev..1@company.com', /misplaced '\.'/],
    ['"dev 1"@company.com', /contains a space/],
    ['dev<1>@company.com', /contains '<' before the '@'/],
    ['', /^is empty/],
  ])('refuses %j naming the field and giving an example', (email, message) => {
    const issues = checkMember(email, 'members[3]');
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('members[3]');
    expect(issues[0]?.message).toMatch(message);
    expect(issues[0]?.message).toMatch(/e\.g\. dev1@company\.com$/);
  });

  it('refuses addresses longer than 254 characters', () => {
    const email = `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(20)}.com`;
    expect(email.length).toBeGreaterThan(254);
    expect(checkMember(email, 'm')[0]?.message).toMatch(/characters long, more than 254/);
  });

  it('accepts an unknown value and refuses a non-string', () => {
    expect(checkMember(UNKNOWN, 'members[0]')).toEqual([]);
    expect(checkMember(7 as unknown as string, 'members[0]')[0]?.message).toMatch(/got a number/);
  });
});

describe('normaliseMember', () => {
  it('lower-cases the whole address', () => {
    expect(normaliseMember('Dev1@Company.COM')).toBe('dev1@company.com');
  });

  it('throws a ValidationError for a non-email', () => {
    expect(() => normaliseMember('nope', 'members[0]')).toThrow(ValidationError);
    expect(() => normaliseMember('nope', 'members[0]')).toThrow(/^members\[0\]: "nope" is not an email address/);
  });
});

describe('checkMembers', () => {
  it('accepts the example groups', () => {
    expect(checkMembers(['dev1@company.com', 'dev2@company.com'])).toEqual([]);
    expect(checkMembers(['analyst1@company.com', 'analyst2@company.com'])).toEqual([]);
    expect(checkMembers([])).toEqual([]);
  });

  it('refuses a duplicate after lower-casing, naming both indices', () => {
    expect(checkMembers(['dev1@company.com', 'dev2@company.com', 'DEV1@company.com'])).toEqual([
      {
        field: 'members[2]',
        message: '"DEV1@company.com" is the same member as "dev1@company.com" once lower-cased (members[0] and members[2]); list each person once',
      },
    ]);
    expect(checkMembers(['a@b.co', 'a@b.co'])[0]?.message).toMatch(/is listed twice \(members\[0\] and members\[1\]\)/);
  });

  it('reports every bad element at once, each by index', () => {
    const issues = checkMembers(['ok@company.com', 'not-an-email', 'x y@company.com', 'OK@company.com']);
    expect(issues.map((i) => i.field)).toEqual(['members[1]', 'members[2]', 'members[3]']);
  });

  it('skips unknown elements and an unknown list', () => {
    expect(checkMembers([UNKNOWN, 'dev1@company.com', UNKNOWN])).toEqual([]);
    expect(checkMembers(UNKNOWN)).toEqual([]);
  });

  it('uses the field it is given and refuses a non-list', () => {
    expect(checkMembers(['nope'], 'group.members')[0]?.field).toBe('group.members[0]');
    expect(checkMembers('dev1@company.com' as unknown as string[])[0]).toEqual({
      field: 'members',
      message: 'must be a list of email addresses, got a string',
    });
  });

  it('parseMembers lower-cases and keeps the order', () => {
    expect(parseMembers(['B@company.com', 'a@company.com'])).toEqual(['b@company.com', 'a@company.com']);
    expect(() => parseMembers(['a@company.com', 'A@company.com'])).toThrow(/^members\[1\]:/);
  });
});
