#!/usr/bin/env node
// The `gatehouse` command. The TypeScript is compiled to dist/ by `npm ci` (the prepare script) or `npm run build`.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli/index.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('gatehouse: not built yet; run `npm run build` (or `npm ci`) first\n')
  process.exit(1)
}
await import(cli.href)
