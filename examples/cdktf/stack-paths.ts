/**
 * Paths as Terraform sees them from a synthesized stack. Terraform runs in
 * `<outdir>/stacks/<stack>`; a path written relative to that directory keeps the
 * configuration free of this machine's absolute paths (the default local backend would
 * embed one).
 */
import path from 'node:path';
import { App, LocalBackend, TerraformStack } from '../../src/constructs/cdk';

/** The directory Terraform runs in for `stack`. */
export function stackDir(stack: TerraformStack): string {
  return path.resolve(App.of(stack).outdir, 'stacks', stack.node.id);
}

/** `target` relative to the stack directory, POSIX-style, as Terraform wants it. */
export function fromStack(stack: TerraformStack, target: string): string {
  return path.relative(stackDir(stack), path.resolve(target)).split(path.sep).join('/');
}

/** A local backend keeping `terraform.<stack>.tfstate` in `stateDir`, by a relative path. */
export function localBackend(stack: TerraformStack, stateDir: string): LocalBackend {
  return new LocalBackend(stack, { path: fromStack(stack, path.join(stateDir, `terraform.${stack.node.id}.tfstate`)) });
}
