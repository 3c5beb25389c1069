import neostandard from 'neostandard'

/**
 * neostandard (the Fastify team's own configuration: standard style, TypeScript through typescript-eslint),
 * plus the rules this codebase relies on. `npm run lint`; `.ci/run` fails on any finding.
 */
export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'bench/results/**', 'bench/node_modules/**', 'data/**', 'node_modules/**', '.tap/**', 'screenshots/**'] }),
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
  }
]
