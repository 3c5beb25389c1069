import neostandard from 'neostandard'

/**
 * neostandard (the Fastify team's own configuration: standard style, TypeScript through typescript-eslint),
 * plus the rules this codebase relies on. `npm run lint`; `.ci/run` fails on any finding.
 */
export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'packages/*/dist/**', 'bench/results/**', 'bench/node_modules/**', 'data/**', 'node_modules/**', '.tap/**', 'screenshots/**'] }),
  {
    files: ['**/*.ts'],
    rules: {
      // Secrets are compared with crypto.timingSafeEqual on digests (lib/oauth/client-secrets.ts), never with ===
      // (SECURITY-CASES T9): a comparison whose operand is named like a secret is refused.
      'no-restricted-syntax': ['error', {
        selector: "BinaryExpression[operator=/^[!=]==?$/]:not([left.name='undefined'], [right.name='undefined'], [left.raw='null'], [right.raw='null']) > Identifier[name=/secret|password|token$/i]",
        message: 'compare secrets with crypto.timingSafeEqual on digests (lib/oauth/client-secrets.ts), not with == or ==='
      }]
    }
  },
  // The layers (ARCHITECTURE.md): arrows point down only. routes/ and plugins/ use lib/ and schemas/; lib/ never
  // reaches up into the Fastify layer; schemas/ is a leaf that lib/ may read. `npm run lint:graph` (madge) refuses
  // cycles on top of these.
  ...layer(['lib/**/*.ts'], [
    { group: ['**/plugins/**', '**/routes/**', '**/cli/**', '**/resource-server/**', '**/test/**'], message: 'lib/ holds the rules; it must not import the Fastify layer (plugins/, routes/), the CLI or the tests' }
  ]),
  ...layer(['lib/stores/**/*.ts'], [
    { group: ['**/plugins/**', '**/routes/**', '**/cli/**', '**/resource-server/**', '**/test/**'], message: 'lib/ must not import the Fastify layer, the CLI or the tests' },
    { group: ['**/oauth/**', '**/admin/**', '**/upstream/**', '**/browser/**'], message: 'the stores persist; they must not import the protocol or admin rules (what they need lives in lib/stores/, e.g. deny-list.ts)' }
  ]),
  ...layer(['lib/limits/**/*.ts'], [
    { group: ['**/plugins/**', '**/routes/**', '**/cli/**', '**/resource-server/**', '**/test/**'], message: 'lib/ must not import the Fastify layer, the CLI or the tests' },
    { group: ['**/oauth/**', '**/admin/**', '**/upstream/**', '**/browser/**', '**/stores/**'], message: 'lib/limits/ counts; what is counted and why (the sign-in keys and their protocol) is lib/oauth/\'s, which imports lib/limits/, not the other way' }
  ]),
  ...layer(['schemas/**/*.ts'], [
    { group: ['**/lib/**', '**/plugins/**', '**/routes/**'], message: 'schemas/ is a leaf (the contract): limits shared with code live in schemas/common.ts, and code imports them from there' }
  ]),
  ...layer(['plugins/**/*.ts'], [
    { group: ['**/routes/**', '**/cli/**', '**/test/**'], message: 'plugins/ must not import routes/, the CLI or the tests' }
  ]),
  ...layer(['routes/**/*.ts', 'cli/**/*.ts', '*.ts'], [
    { group: ['**/test/**'], message: 'application code must not import the tests' }
  ]),
  // The resource-server package runs inside another service: it shares Gatehouse's rules through leaves
  // (lib/oauth/access-token-rules.ts), never the signer with its keys and caches, nor the app's Fastify layer, whose
  // `declare module 'fastify'` it must not meet (resource-server/tsconfig.json checks it alone).
  ...layer(['resource-server/**/*.ts'], [
    { group: ['**/test/**'], message: 'application code must not import the tests' },
    { group: ['**/plugins/**', '**/routes/**', '**/cli/**'], message: 'the resource-server package must not import the app\'s Fastify layer or the CLI' },
    { group: ['**/oauth/access-tokens*', '**/keys/**'], message: 'take the access-token rules from lib/oauth/access-token-rules.js, not the signer or the keys' }
  ])
]

/** A `no-restricted-imports` rule for one layer: which import paths its files may not name. */
function layer (files, patterns) {
  return [{ files, rules: { 'no-restricted-imports': ['error', { patterns }] } }]
}
