// Lint with type information: floating promises and misused promises are the bugs that
// hurt most in pg and AWS SDK code, and only type-aware rules catch them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layers, sizes } from './eslint.layers.mjs';

export default tseslint.config(
  { ignores: ['.scratch/**', 'dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts', 'eslint.config.mjs', 'eslint.layers.mjs', '.gen/**', 'src/constructs/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  layers,
  sizes,
);
