import { join } from 'node:path'
import { PROJECT_ROOT } from '../../lib/paths.js'

/**
 * Where things are, for tests wherever they sit under test/ (they run from dist/test/…): one home, so moving a
 * test file never breaks a path.
 */
export const REPO_ROOT = PROJECT_ROOT
/** The build: dist/ at the repository root. */
export const DIST = join(REPO_ROOT, 'dist')
/** The server as `npm start` runs it. */
export const SERVER_JS = join(DIST, 'server.js')
/** The `gatehouse` command, as `npx gatehouse` runs it. */
export const GATEHOUSE_BIN = join(REPO_ROOT, 'bin', 'gatehouse.js')
/** The compiled example extensions (ROUTES_DIR / PLUGINS_DIR). */
export const EXAMPLES = join(DIST, 'examples')
/** Browser tests keep their screenshots here (ignored by git). */
export const SCREENSHOTS = join(REPO_ROOT, 'screenshots')
