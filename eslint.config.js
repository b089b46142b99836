import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * The layers of src/, top first (docs/architecture.md#layers). A module may import its own
 * layer and any layer below it, never one above; the adapters (protocols, stores,
 * integrations) sit side by side and know nothing of one another.
 */
const LAYERS = [
  ['commands', 'hooks', 'fast', 'fast-path.js'],
  ['cli'],
  ['core'],
  ['protocols', 'stores', 'integrations'],
  ['base'],
  ['util'],
]

/** One no-restricted-imports block per folder: everything above it, and its adapter siblings. */
function layerRules() {
  return LAYERS.flatMap((layer, depth) =>
    layer.map((folder) => {
      const above = LAYERS.slice(0, depth).flat()
      const siblings = depth === 3 ? layer.filter((other) => other !== folder) : []
      const forbidden = [...above, ...siblings].map((name) => name.replace('.', '\\.'))
      const files = folder.endsWith('.js') ? [`src/${folder.replace(/\.js$/, '.ts')}`] : [`src/${folder}/**/*.ts`]
      if (forbidden.length === 0) return { files, rules: {} }
      return {
        files,
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                {
                  regex: `^(\\.\\.?/)+(src/)?(${forbidden.join('|')})(/|$)`,
                  message: `src/${folder} may not import a layer above it, nor an adapter beside it: see docs/architecture.md#layers.`,
                },
              ],
            },
          ],
        },
      }
    }),
  )
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  ...layerRules(),
  { files: ['test/**', 'scripts/**', 'bin/**'], rules: { 'no-console': 'off' } },
  // bin/ is CommonJS (bin/package.json): the entry loads faster without the ES module loader.
  {
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
)
