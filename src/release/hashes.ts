/**
 * The checksums a provider release carries, in the forms Terraform records them:
 * - `h1:` (Go's golang.org/x/mod/sumdb/dirhash Hash1 over the package's files): base64 of the
 *   SHA-256 of the sorted lines `<sha256 hex of the file>  <name>\n`. Terraform computes it
 *   from the unpacked package, so it is the same for any zip holding the same files.
 * - `zh:`: the hex SHA-256 of the zip archive itself (what a registry's SHA256SUMS signs).
 * - SHA256SUMS: `sha256sum`'s format, `<hex>  <file name>` per line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The hex SHA-256 of a file, streamed (executables are around 100 MB). */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One file of a package: its name inside the zip and the hex SHA-256 of its content. */
export interface PackageFile {
  readonly name: string;
  readonly sha256: string;
}

/** The `h1:` hash of a package holding `files`. */
export function packageHashV1(files: readonly PackageFile[]): string {
  const hash = createHash('sha256');
  // Go's sort.Strings: byte order, which for these ASCII names is code unit order.
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const file of sorted) {
    // dirhash refuses such names: they would make the line format ambiguous.
    if (file.name.includes('\n')) throw new Error(`a package file name cannot contain a newline: ${JSON.stringify(file.name)}`);
    hash.update(`${file.sha256}  ${file.name}\n`);
  }
  return `h1:${hash.digest('base64')}`;
}

/** The `zh:` hash of a zip archive, from its hex SHA-256. */
export function zipHash(zipSha256: string): string {
  return `zh:${zipSha256}`;
}

/** The lines of a SHA256SUMS file, name to hex SHA-256; throws on a line of another shape. */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) throw new Error(`not a SHA256SUMS line: ${JSON.stringify(line.slice(0, 120))}`);
    sums.set(match[2]!, match[1]!);
  }
  return sums;
}

/** A SHA256SUMS file's text, sorted by file name (so merging releases is stable). */
export function formatSha256Sums(sums: ReadonlyMap<string, string>): string {
  return [...sums.keys()]
    .sort()
    .map((name) => `${sums.get(name)!}  ${name}\n`)
    .join('');
}
