import { Eta } from 'eta'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { layeredTemplatePath, PROJECT_ROOT } from '../paths.js'

/** The built-in mail templates: views/mail/ at the package root. */
export const BUILT_IN_MAIL_VIEWS = join(PROJECT_ROOT, 'views', 'mail')

/** A message kind names its templates (`<kind>.subject.eta`, `<kind>.text.eta`, `<kind>.html.eta`): a plain name. */
export const MAIL_KIND = /^[a-z][a-z0-9-]{0,39}$/

export interface RenderedParts { subject: string, text: string, html: string }

/**
 * The mail templates, each read from VIEWS_DIR/mail/ when that folder has the file, else from views/mail/ (as the
 * pages do: a copy made before a new message existed still sends it). The subject and the text part are plain text
 * (not escaped); the HTML part is escaped and wrapped in `layout.html.eta`.
 */
export class MailTemplates {
  readonly #text: Eta
  readonly #html: Eta

  constructor (viewsDir?: string) {
    const own = viewsDir === undefined ? BUILT_IN_MAIL_VIEWS : join(resolve(viewsDir), 'mail')
    const resolvePath = (template: string): string => {
      const name = template.endsWith('.eta') ? template : `${template}.eta`
      if (!/^[a-z][a-z0-9.-]*\.eta$/.test(name)) throw new Error(`mail template ${JSON.stringify(template)}: a file name in views/mail`)
      return layeredTemplatePath(own, BUILT_IN_MAIL_VIEWS, name)
    }
    // No trimming in plain text: a line break after a tag is part of the message.
    this.#text = new Eta({ views: own, autoEscape: false, autoTrim: false, cache: true })
    this.#html = new Eta({ views: own, autoEscape: true, cache: true })
    this.#text.resolvePath = resolvePath
    this.#html.resolvePath = resolvePath
  }

  has (kind: string): boolean {
    return MAIL_KIND.test(kind) && existsSync(join(BUILT_IN_MAIL_VIEWS, `${kind}.text.eta`))
  }

  render (kind: string, data: Record<string, unknown>): RenderedParts {
    if (!MAIL_KIND.test(kind)) throw new Error(`mail kind ${JSON.stringify(kind)}: lower-case letters, digits and -`)
    return {
      subject: this.#text.render(`${kind}.subject`, data).trim(),
      text: this.#text.render(`${kind}.text`, data),
      html: this.#html.render(`${kind}.html`, data)
    }
  }
}
