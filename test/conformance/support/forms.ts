/**
 * The forms of a server-rendered page, read the way a browser submits them (no script needed): the login, consent,
 * form_post and logout pages are plain HTML forms. Only what the conformance user agent needs: a form's method,
 * action and named controls (inputs with their values, submit buttons with theirs).
 */
export interface HtmlForm {
  method: string
  /** As written in the page (resolve it against the page's URL). */
  action: string
  inputs: Array<{ name: string, value: string, type: string }>
  buttons: Array<{ name: string, value: string }>
}

const unescape = (s: string) => s
  .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>')
  .replace(/&#(\d+);/g, (_m, n: string) => String.fromCodePoint(Number(n))).replace(/&amp;/g, '&')

/** The attributes of one tag's text (`<input type="hidden" name="x" value="y">`). */
function attributes (tag: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const match of tag.matchAll(/([a-zA-Z_:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    const name = (match[1] ?? '').toLowerCase()
    if (name === '' || name in found) continue
    found[name] = unescape(match[2] ?? match[3] ?? match[4] ?? '')
  }
  return found
}

export function formsOf (html: string): HtmlForm[] {
  const forms: HtmlForm[] = []
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = attributes(match[1] ?? '')
    const inner = match[2] ?? ''
    const inputs = [...inner.matchAll(/<input\b([^>]*)>/gi)].map((m) => attributes(m[1] ?? ''))
      .filter((a) => a.name !== undefined && a.name !== '')
      .map((a) => ({ name: a.name ?? '', value: a.value ?? '', type: (a.type ?? 'text').toLowerCase() }))
    const buttons = [...inner.matchAll(/<button\b([^>]*)>/gi)].map((m) => attributes(m[1] ?? ''))
      .filter((a) => a.name !== undefined && a.name !== '')
      .map((a) => ({ name: a.name ?? '', value: a.value ?? '' }))
    forms.push({ method: (attrs.method ?? 'get').toLowerCase(), action: attrs.action ?? '', inputs, buttons })
  }
  return forms
}

/** The fields a form submits: its inputs (checkboxes and submit inputs aside), with `overrides` and a clicked button. */
export function submission (form: HtmlForm, overrides: Record<string, string> = {}, button?: { name: string, value: string }): URLSearchParams {
  const fields = new URLSearchParams()
  for (const input of form.inputs) {
    if (['checkbox', 'radio', 'submit', 'button', 'image'].includes(input.type)) continue
    fields.append(input.name, input.name in overrides ? overrides[input.name] ?? '' : input.value)
  }
  for (const [name, value] of Object.entries(overrides)) if (!fields.has(name)) fields.append(name, value)
  if (button) fields.append(button.name, button.value)
  return fields
}
