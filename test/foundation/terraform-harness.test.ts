/**
 * The Terraform harness: the real binary runs in an isolated directory with its own CLI
 * config, and a missing binary is a loud, specific error rather than a confusing failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TerraformMissingError, TerraformWorkspace, terraformBinary, terraformVersion } from '../fixtures/terraform';

describe('terraform harness', () => {
  const workspaces: TerraformWorkspace[] = [];
  afterAll(() => workspaces.forEach((w) => w.dispose()));

  it('finds Terraform >= 1.5 on PATH', () => {
    const [major, minor] = terraformVersion();
    expect(major > 1 || (major === 1 && minor >= 5)).toBe(true);
  });

  it('fails loudly, naming the fix, when terraform is missing', () => {
    expect(() => terraformBinary({ PATH: '/nonexistent' })).toThrow(TerraformMissingError);
    expect(() => terraformBinary({ PATH: '/nonexistent' })).toThrow(/install Terraform >= 1.5.*TERRAFORM_BINARY/);
    expect(() => terraformBinary({ TERRAFORM_BINARY: '/no/such/terraform' })).toThrow(/TERRAFORM_BINARY=\/no\/such\/terraform/);
  });

  it('runs init, apply, output and destroy offline with its own CLI config', async () => {
    const ws = new TerraformWorkspace({
      files: {
        'main.tf': [
          'variable "greeting" { type = string }',
          'resource "terraform_data" "probe" { input = var.greeting }',
          'output "echo" { value = terraform_data.probe.output }',
        ].join('\n'),
      },
      env: { TF_VAR_greeting: 'hello from the harness' },
    });
    workspaces.push(ws);
    await ws.init();
    await ws.apply();
    expect((await ws.outputs()).echo?.value).toBe('hello from the harness');
    const plan = await ws.plan();
    expect(plan.code).toBe(0); // no changes
    await ws.destroy();
    const version = await ws.ok(['version']);
    expect(version.stdout).toMatch(/Terraform v1\./);
  });

  it('reports a broken configuration with a non-zero exit and the diagnostic', async () => {
    const ws = new TerraformWorkspace({ files: { 'main.tf': 'resource "terraform_data" "x" { no_such_argument = 1 }\n' } });
    workspaces.push(ws);
    const result = await ws.run(['validate', '-no-color']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('no_such_argument');
  });
});
