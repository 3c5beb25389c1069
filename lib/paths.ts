import { fileURLToPath } from 'node:url'
import { existsSync } from 'node:fs'
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

/**
 * Where a template is read from when an operator has a folder of their own (VIEWS_DIR): from it when it has the
 * file, else from the built-in folder, so a copy made before an upgrade still renders the templates the upgrade
 * added. Pages (plugins/views.ts) and mail (lib/mail/templates.ts) both read theirs this way; `name` is a flat
 * file name the caller has checked.
 */
export function layeredTemplatePath (own: string, builtIn: string, name: string): string {
  const mine = join(own, name)
  return existsSync(mine) ? mine : join(builtIn, name)
}
