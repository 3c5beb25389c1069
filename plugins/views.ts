import fp from 'fastify-plugin'
import view from '@fastify/view'
import { Eta } from 'eta'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { basename, extname, resolve } from 'node:path'
import type { FastifyReply } from 'fastify'
import { layeredTemplatePath } from '../lib/paths.js'
import { chooseLocale, translator, uiLocalesOf } from '../lib/i18n/index.js'
import { loadOperatorAssets, type OperatorAssets } from '../lib/browser/operator-assets.js'

/** The built-in page templates: views/ at the package root (dist/plugins/ → ../../views). */
export const BUILT_IN_VIEWS = fileURLToPath(new URL('../../views/', import.meta.url))
/** The admin console's pages: views/console/ (routes/console/). */
const CONSOLE_VIEWS = 'console/'

export interface PageOptions {
  status?: number
  /** Origins a form on the page may end up at (CSP form-action): a login or consent post 303s to the client. */
  formTargets?: string[]
  /** Images from elsewhere the page shows (exact https URLs: a registered client's logo on the consent page). */
  imageSources?: string[]
  /**
   * The page runs scripts carrying its nonce: form-post.eta's inline submit, the passkey pages' scripts served from
   * /assets/ (lib/browser/assets.ts); no other page runs any.
   */
  script?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The operator's files (ASSETS_DIR), read at start: served by routes/assets/, the stylesheet and logo added to every page. */
    operatorAssets: OperatorAssets
  }
  interface FastifyReply {
    /** Renders `views/<name>.eta` as a full HTML page (with the issuer's name), with its own CSP (html-security-headers). */
    page: (name: string, data: Record<string, unknown>, options?: PageOptions) => Promise<FastifyReply>
  }
}

/**
 * Eta reading each template from the operator's folder when it has that file, else from the built-in views/: a
 * VIEWS_DIR copied before a page existed (a new page arrives with an upgrade) still renders it, in the built-in
 * layout unless the copy has its own. Templates are flat names, or flat names in console/ (the admin console's pages);
 * anything else is refused, as Eta refuses paths outside its folder.
 */
function layeredEta (own: string): Eta {
  const eta = new Eta({ views: own, autoEscape: true, cache: true })
  eta.resolvePath = (template: string) => {
    // A console page names its layout from the views folder's root (`/console/layout`), as Eta's own resolution wants.
    const name = (extname(template) ? template : `${template}.eta`).replace(/^\/(?=console\/)/, '')
    const file = name.startsWith(CONSOLE_VIEWS) ? name.slice(CONSOLE_VIEWS.length) : name
    if (basename(file) !== file || file.startsWith('.')) throw new Error(`template ${JSON.stringify(template)}: a file name in the views folder or its console/`)
    return layeredTemplatePath(own, BUILT_IN_VIEWS, name)
  }
  return eta
}

/**
 * Server-rendered pages (login, consent, error, signed-out) with @fastify/view and Eta: no front-end build,
 * nothing from third parties. Templates come from VIEWS_DIR when set (an operator's copy of views/), else
 * views/. Each page gets a CSP of its own, written by plugins/html-security-headers.ts from the style nonce and
 * the form targets handed to it here: nothing but the page's inline style and forms posting here, or to the
 * client the flow returns to.
 */
export default fp(async (fastify) => {
  const { config } = fastify
  const root = config.viewsDir ? resolve(config.viewsDir) : BUILT_IN_VIEWS
  const operatorAssets = loadOperatorAssets(config.assetsDir === undefined ? undefined : resolve(config.assetsDir))
  for (const skipped of operatorAssets.skipped) fastify.log.warn({ assetsDir: config.assetsDir }, `ASSETS_DIR: not served: ${skipped}`)
  fastify.decorate('operatorAssets', operatorAssets)
  await fastify.register(view, {
    engine: { eta: config.viewsDir ? layeredEta(root) : new Eta({ views: root, autoEscape: true, cache: true }) },
    root,
    production: true
  })

  fastify.decorateReply('page', async function (this: FastifyReply, name: string, data: Record<string, unknown>, options: PageOptions = {}) {
    const nonce = randomBytes(16).toString('base64')
    // plugins/html-security-headers.ts writes the page's CSP (and the rest) from these.
    this.pageSources = { styleNonce: nonce, formTargets: options.formTargets ?? [], scriptNonce: options.script === true ? nonce : undefined, imageSources: options.imageSources ?? [] }
    this.code(options.status ?? 200).header('content-type', 'text/html; charset=utf-8')
    // The page's language (lib/i18n/): the request's ui_locales, or its pending authorization request's, then Accept-Language.
    const { query, body, headers } = this.request
    const messages = translator(chooseLocale({ uiLocales: uiLocalesOf(query as Record<string, unknown>, body as Record<string, unknown>), acceptLanguage: headers['accept-language'] }))
    this.header('content-language', messages.locale)
    // requestId: the reference an error page gives, which support finds in the log (the reply's X-Request-Id too).
    const html = await this.viewAsync(`${name}.eta`, { ...data, nonce, issuerName: config.issuerName, requestId: this.request.id, lang: messages.locale, t: messages.t, th: messages.th, brand: operatorAssets.brand })
    return this.send(html)
  })
}, { name: 'views', dependencies: ['config', 'html-security-headers'] })
