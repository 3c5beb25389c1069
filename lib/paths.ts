import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/**
 * The project folder (where package.json is), whichever folder a command runs from: this file is
 * lib/paths.ts in the sources and dist/lib/paths.js once built, so the root is two levels up from dist/lib
 * and one from lib.
 */
const here = fileURLToPath(new URL('.', import.meta.url))
export const PROJECT_ROOT = join(here, here.replace(/[\\/]+$/, '').endsWith(join('dist', 'lib')) ? '../..' : '..')

/** The embedded database when DATABASE_URL is unset: in the project folder, not in the working directory. */
export const DEFAULT_SQLITE_PATH = join(PROJECT_ROOT, 'data', 'gatehouse.db')
