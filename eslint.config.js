// ESLint 9 flat config (`npm run lint`): ESLint's recommended rules and typescript-eslint's recommended set
// (syntax only, not the type-aware set, so the lint stays fast), plus the stricter habits the project keeps
// (===, const, no eval, no thrown literals, ...). Node globals for src/ server/ tests/ bench/ scripts/,
// browser globals for web/ (plain ES modules typed through JSDoc).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'bench/peers/build/**', 'web/vendor/**', 'coverage/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { ...globals.es2024 },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // `any` is allowed where a value really is unchecked JSON, but each one should be looked at.
      '@typescript-eslint/no-explicit-any': 'warn',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-async-promise-executor': 'warn',
      'array-callback-return': 'error',
      'no-fallthrough': 'error',
      'no-template-curly-in-string': 'error',
      'no-useless-catch': 'error',
      'default-case-last': 'error',
      'no-throw-literal': 'error',
      'no-constructor-return': 'error',
      'no-self-compare': 'error',
      'no-unreachable-loop': 'error',
      '@typescript-eslint/no-non-null-asserted-optional-chain': 'error',
    },
  },
  {
    // Everything but the browser client runs on Node.
    files: ['src/**', 'server/**', 'tests/**', 'bench/**', 'scripts/**', '*.js', '*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The browser client: plain JavaScript modules, browser globals only (Plotly comes from a classic <script>).
    files: ['web/**/*.js'],
    languageOptions: { globals: { ...globals.browser, Plotly: 'readonly' } },
  },
  {
    // The page's inline-script helpers and bench's browser-side snippets run in the browser too.
    files: ['bench/web-load.ts', 'tests/e2e*.ts', 'tests/e2e/**', 'tests/web-boot.test.ts'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
);
