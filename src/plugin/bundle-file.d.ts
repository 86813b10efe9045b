/**
 * `import x from './module?bundle-file'`: src/install/bundle.ts bundles the module into a
 * file of its own next to the importing bundle and gives its file name (relative to the
 * importing bundle's directory).
 */
declare module '*?bundle-file' {
  const fileName: string;
  export default fileName;
}
