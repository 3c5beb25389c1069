import { register } from 'node:module'

// `node --import dist/test/support/node20-fs/register.js …`: installs hooks.ts before the program's first import.
// Why: see hooks.ts.
register('./hooks.js', import.meta.url)
